// Swagger UI over the engine's contract (a file, not an inline script: the
// page's Content-Security-Policy allows only its own scripts).
window.ui = SwaggerUIBundle({
	url: "/openapi.json",
	dom_id: "#swagger-ui",
	deepLinking: true,
	docExpansion: "list",
	validatorUrl: null,
	tryItOutEnabled: false
});
