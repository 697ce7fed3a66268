import PleatStorage

extension EvaluationReport {
    /// The report as a row of `evaluation_runs` (`EvaluationRunLog`): models and baselines by name, the
    /// whole report as its metrics.
    public func runLogEntry(reportDirectory: String) -> EvaluationRunLog.Entry<EvaluationReport> {
        EvaluationRunLog.Entry(models: rankers.filter { $0.kind != "baseline" }.map(\.name),
                               baselines: rankers.filter { $0.kind == "baseline" }.map(\.name), split: split,
                               snapshotBatch: snapshotBatch, users: users, metrics: self, reportDirectory: reportDirectory, seconds: seconds)
    }
}
