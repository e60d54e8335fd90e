// The geometric self-ensemble of `netc deblur` / `netc eval --ensemble N` (deblur.ts runs
// it): which flipped views each N averages. Apart from deblur.ts so that the CLI's option
// parsing can name the valid N without loading tfjs (`netc compile` shares those options).

/** The flips ([left-right, up-down]) of each ensemble size. */
export const ENSEMBLE_FLIPS: Record<number, [boolean, boolean][]> = {
  1: [[false, false]],
  2: [[false, false], [true, false]],
  4: [[false, false], [true, false], [false, true], [true, true]],
};
export const ENSEMBLE_VIEWS = Object.keys(ENSEMBLE_FLIPS).map(Number);
