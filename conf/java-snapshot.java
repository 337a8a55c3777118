/*
 * What javac compiles once, at the runner's start, to record the classes it
 * loads into a class-data archive (languages.conf, [java] snapshot): the
 * usual parts of a learner's program, so that their compiles find javac's
 * classes for them already parsed and laid out (JDK's AppCDS). Never run.
 */
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.*;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

interface Shape {
	double area();
}

record Circle(double r) implements Shape {
	public double area() {
		return Math.PI * r * r;
	}
}

enum Colour { RED, GREEN, BLUE }

class Main {
	static <T extends Comparable<T>> T largest(List<T> items) {
		T best = items.get(0);
		for (T item : items)
			if (item.compareTo(best) > 0)
				best = item;
		return best;
	}

	static String describe(Object o) {
		if (o instanceof Integer i)
			return "int " + i;
		return switch (o.getClass().getSimpleName()) {
		case "String" -> "string " + ((String) o).length();
		default -> String.valueOf(o);
		};
	}

	public static void main(String[] args) throws IOException {
		BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
		Scanner scanner = new Scanner(System.in);
		Map<String, Integer> counts = new HashMap<>();
		List<Shape> shapes = new ArrayList<>(List.of(new Circle(1), new Circle(2)));
		Function<Shape, Double> area = Shape::area;
		String line = in.readLine();
		if (line != null)
			for (String word : line.split("\\s+"))
				counts.merge(word, 1, Integer::sum);
		int[] squares = IntStream.range(0, 10).map(i -> i * i).toArray();
		String joined = Arrays.stream(squares).mapToObj(Integer::toString).collect(Collectors.joining(","));
		StringBuilder sb = new StringBuilder();
		for (Colour c : Colour.values())
			sb.append(c.name().toLowerCase()).append(' ');
		try {
			Object o = shapes.stream().map(area).reduce(0.0, Double::sum);
			System.out.printf("%.2f %s %s %d%n", (Double) o, joined, sb, largest(Arrays.asList(3, 1, 2)));
		} catch (ClassCastException | IllegalStateException e) {
			System.err.println(e.getMessage());
		} finally {
			scanner.close();
		}
		var text = describe(counts.size()) + describe("x");
		char[] chars = text.toCharArray();
		long total = 0;
		for (int i = 0; i < chars.length; i++)
			total += chars[i];
		System.out.println(text + total);
	}
}
