import Foundation
import PleatEvaluation
import PleatIngest
import PleatMetrics
import PleatScoring
import PleatTraining
import PleatModel

/// A pipeline file (`pipelines/*.yaml`) as typed values: where the interactions come from, which models
/// to train with which settings, how to score and how to evaluate. `load` checks everything (keys,
/// values, files, training settings) before any work starts.
public struct PipelineDefinition: Sendable {
    public var file: String
    public var name: String
    /// The seen-items rule of every stage: each model trains and validates under it, scoring lists and
    /// evaluation ranks follow it. One key, so that what is evaluated is what is served.
    public var seen: SeenItems
    public var sources: [Source]
    public var models: [ModelSpec]
    public var scoring: Scoring
    public var evaluation: Evaluation
    /// When the scored model's lists are made the ones served (`promotion:`; by default no worse than
    /// the serving model and significantly better than the best of the evaluation's baselines).
    public var promotion = PromotionRule()

    public enum Source: Sendable {
        /// An interaction file (and optional item file) as `pleat ingest` takes them.
        case file(path: String, options: IngestOptions)
        /// Generated demo data with planted structure (`pleat synth`), written under the Pleat home.
        case synthetic(SyntheticLog.Settings)
    }

    public struct ModelSpec: Sendable {
        public var config: TrainingConfig
    }

    public struct Scoring: Sendable {
        /// Which trained model's lists become the active ones: the best by validation NDCG@10 (`best`),
        /// the one of a kind (`sasrec`, …), or `none` to skip scoring.
        public var model = "best"
        public var topK = 100
    }

    public struct Evaluation: Sendable {
        public var enabled = true
        public var baselines: [Baseline] = Baseline.allCases
        public var examples = OfflineEvaluation.Examples.test
        public var sampled: [NegativeSampler.Distribution] = []
        /// Report directory; nil: `<home>/reports/<pipeline name>/<time>`, one per run, the newest linked
        /// as `<home>/reports/<pipeline name>/latest`.
        public var report: String?
    }
}
