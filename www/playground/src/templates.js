// The code a new session starts with, per engine language: a program that
// greets, so the first Run shows something.
export const TEMPLATES = {
	python: 'print("Hello, world!")\n',
	javascript: 'console.log("Hello, world!");\n',
	typescript: 'const greeting: string = "Hello, world!";\nconsole.log(greeting);\n',
	c: '#include <stdio.h>\n\nint main(void) {\n    printf("Hello, world!\\n");\n    return 0;\n}\n',
	cpp: '#include <iostream>\n\nint main() {\n    std::cout << "Hello, world!" << std::endl;\n    return 0;\n}\n',
	java: 'public class Main {\n    public static void main(String[] args) {\n        System.out.println("Hello, world!");\n    }\n}\n',
	go: 'package main\n\nimport "fmt"\n\nfunc main() {\n    fmt.Println("Hello, world!")\n}\n',
	rust: 'fn main() {\n    println!("Hello, world!");\n}\n',
	bash: 'echo "Hello, world!"\n',
	sql: "SELECT 'Hello, world!' AS greeting;\n",
};
