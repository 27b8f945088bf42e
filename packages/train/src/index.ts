export * from "./distill/index";
