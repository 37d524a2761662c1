/**
 * The seed of the property-based and fuzz tests: fixed, so a run is repeatable and a failure
 * names the seed that shows it; set BROOK_FUZZ_SEED to explore other inputs.
 */
export const FUZZ_SEED = Number(process.env.BROOK_FUZZ_SEED ?? 20_251_202);
