import { packageTests } from "../../tooling/vitest.preset";

export default packageTests();
