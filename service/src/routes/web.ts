import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";

/** Same-origin only: the page's script, styles and fetches all come from this server. */
export const WEB_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

/**
 * The web form: every file of public/ (flat, read once at startup) served at `/<file>`, and
 * index.html at `/`. The page builds one form per model from GET /v2/models/{name} metadata.
 */
export async function webRoutes(app: FastifyInstance, publicDir: string): Promise<void> {
  const files = readdirSync(publicDir).filter((f) => TYPES[path.extname(f)] !== undefined);
  for (const file of files) {
    const body = readFileSync(path.join(publicDir, file));
    const type = TYPES[path.extname(file)];
    const urls = file === "index.html" ? ["/", "/index.html"] : [`/${file}`];
    for (const url of urls) {
      app.get(url, {
        schema: {
          tags: ["Web"],
          summary: file === "index.html" ? "Web form for the models" : `Static ${file}`,
          produces: [type.split(";")[0]],
          response: { 200: { type: "string" } },
        },
        handler: async (_request, reply) =>
          reply
            .header("content-type", type)
            .header("content-security-policy", WEB_CSP)
            .header("x-content-type-options", "nosniff")
            .header("referrer-policy", "no-referrer")
            .header("cache-control", "no-cache")
            .send(body),
      });
    }
  }
}
