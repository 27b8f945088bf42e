import { packageTests } from "../../tooling/vitest.preset";

// tfjs-core's gradients ship only as ES modules with extensionless imports (see src/backend.ts).
// Training tests are CPU-bound: on a shared 2-core machine they need more than the default 30 s.
export default packageTests({ inline: [/@tensorflow\/tfjs-core\/dist\/(?!tf-core)/], testTimeout: 120_000 });
