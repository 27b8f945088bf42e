import { describe, expect, it } from "vitest";
import { ASPECT_DEFINITIONS, ASPECTS } from "../src/aspects";
import { allAspectsPrompt, aspectPrompt, aspectPromptVersion } from "../src/judge-prompts";
import { parseAllAspects, parseAspectScore } from "../src/parse";
import { example, rationale } from "./helpers";

describe("judge prompts", () => {
  it.each(ASPECTS)("the %s prompt holds its definition, the material and the strict format", (aspect) => {
    const p = aspectPrompt(aspect, { example, rationale });
    expect(p.prompt).toContain(ASPECT_DEFINITIONS[aspect]);
    expect(p.prompt).toContain(`Question: ${example.question}`);
    expect(p.prompt).toContain("Arthur's Magazine: Arthur's Magazine was an American literary periodical.");
    expect(p.prompt).toContain(`Rationale: ${rationale}`);
    expect(p.prompt).toContain("`Score: <integer from 1 to 5>`");
    expect(p.system).toBeTruthy();
    expect(p.version).toBe(aspectPromptVersion(aspect));
    expect(p.version).toMatch(new RegExp(`^judge-${aspect}@[0-9a-f]{8}$`));
  });

  it("gives every aspect its own version", () => {
    expect(new Set(ASPECTS.map(aspectPromptVersion)).size).toBe(8);
  });

  it("lists every chosen aspect in the all-in-one prompt, and the version depends on the choice", () => {
    const all = allAspectsPrompt(ASPECTS, { example, rationale });
    for (const a of ASPECTS) expect(all.prompt).toContain(`- ${a}: ${ASPECT_DEFINITIONS[a]}`);
    const two = allAspectsPrompt(["factuality", "fluency"], { example, rationale });
    expect(two.prompt).not.toContain("- relevance:");
    expect(two.version).not.toBe(all.version);
  });

  it("its own format examples parse", () => {
    expect(parseAspectScore("Score: 3")).toEqual({ score: 0.5, raw: 3 });
    expect(parseAllAspects("factuality: 5\nfluency: 1", ["factuality", "fluency"]).fluency).toEqual({
      score: 0,
      raw: 1,
    });
  });
});
