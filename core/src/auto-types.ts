/** The shape of a fitted logistic model (./auto-model.ts holds the fitted data, ./auto-fusion.ts uses it). */
export interface LogisticModel {
  /** Feature names, in order (documentation; checked against the feature vector's length). */
  features: readonly string[];
  /** Standardisation of each feature (training mean and standard deviation). */
  mean: readonly number[];
  std: readonly number[];
  weights: readonly number[];
  bias: number;
}
