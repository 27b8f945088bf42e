import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildView, serveView } from "../src/index";
import { tempDir } from "./helpers";
import { writeGeneratedRun } from "./view-fixture";

describe("the view server", () => {
  it("sends the matrix without the details, reads an item's details from the run files when asked", async () => {
    const dir = tempDir("lmcot-view-serve-");
    writeGeneratedRun(dir, 5);
    const served = await serveView(await buildView([dir]));
    try {
      const get = (path: string, method = "GET") => fetch(`${served.url}${path}`, { method });
      const data = await (await get("data.js")).text();
      expect(data).toContain("window.LMCOT_DATA=JSON.parse(");
      expect(data).toContain("Which place is entity number 4 near");
      // Contexts, prompts and raw replies stay in the run files until an item is opened.
      expect(data).not.toContain("was founded in");
      expect(data).not.toContain("{{context}}");
      const item = await get("items/4.js");
      expect(item.status).toBe(200);
      expect(item.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(item.headers.get("content-security-policy")).toMatch(/^default-src 'none'/);
      const text = await item.text();
      expect(text).toMatch(/^window\.LMCOT_ITEM\(4,JSON\.parse\(/);
      expect(text).toContain("Entity 4 was founded in 1804.");
      expect(text).toContain("{{context}}");
      expect((await get("items/4.js", "HEAD")).status).toBe(200);
      for (const missing of ["items/5.js", "items/04.js", "items/-1.js", "items/1e3.js", "details.js"])
        expect((await get(missing)).status, missing).toBe(404);
      // A run file changed under the server: the item is a 500 naming the file and line; the server stays up.
      const file = join(dir, "run.jsonl");
      writeFileSync(file, readFileSync(file, "utf8").replace('"em":1', '"em":"1"'));
      const broken = await get("items/0.js");
      expect(broken.status).toBe(500);
      expect(await broken.text()).toBe("run.jsonl: line 1 is not valid JSON\n");
      expect((await get("data.js")).status).toBe(200);
    } finally {
      await served.close();
    }
  });
});
