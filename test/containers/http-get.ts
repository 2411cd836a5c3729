import { get } from "node:http";

/**
 * One HTTP GET, settled within timeoutMs whatever happens. (Global fetch can stay pending forever when
 * Docker's port proxy accepts a connection before the container listens.)
 */
export function httpGetText(url: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get(url, { timeout: timeoutMs }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => resolve(body));
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
    request.on("error", reject);
  });
}
