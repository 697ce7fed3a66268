import Foundation
import PleatCore
import PleatMetrics
import PleatTensor
import PleatModel
import PleatHistories
import PleatMPI

/// What a finished run reports (and the registry stores).
public struct TrainingOutcome: Sendable {
    public let modelId: String
    public let kind: ModelKind
    public let state: TrainingState
    public let valid: RankingMetrics
    public let test: RankingMetrics
    /// Test metrics without removing the user's seen items from the ranking.
    public let testUnfiltered: RankingMetrics
    /// Test metrics against 100 sampled negatives, by distribution (`uniform`, `popularity`).
    public let testSampled: [String: RankingMetrics]
    public let run: RunDirectory
}

/// The training loop: shuffled mini-batches, Adam, validation (full-ranking NDCG@10) after every
/// epoch, the best epoch's weights kept, a checkpoint per epoch, early stopping, and resumption from
/// the last checkpoint that repeats the uninterrupted run exactly (every epoch's randomness derives from
/// the seed and the epoch number alone).
///
/// Under MPI (`communicator` with several ranks) every rank runs this loop on its own users: the ranks
/// take the same number of steps (a rank out of batches contributes nothing), their gradients are
/// averaged over the global batch (`DataParallel`), validation and test metrics are summed over the
/// ranks, and rank 0 alone writes checkpoints and the model.
public final class Trainer {
    public let config: TrainingConfig
    public let split: SequenceSplit
    public let model: any NextItemModel
    let adam: Adam
    let run: RunDirectory
    let showProgress: Bool
    let log: (String) -> Void
    var parallel: DataParallel

    public init(config: TrainingConfig, split: SequenceSplit, run: RunDirectory, foldKeys: FoldKeys? = nil, showProgress: Bool = true,
                communicator: Communicator = .single,
                log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        parallel = DataParallel(communicator)
        self.config = config
        self.split = split
        self.run = run
        self.showProgress = showProgress
        self.log = log
        model = config.spec.makeModel(batchSize: parallel.rankBatchSize(config.batchSize), seed: config.seed, items: split.vocabulary.count, foldKeys: foldKeys)
        adam = Adam(model.store)
        adam.beta2 = config.adamBeta2
        adam.weightDecay = config.weightDecay
    }

    /// Trains from scratch, or from the run's last checkpoint when it has one.
    public func train(modelId: String) throws -> TrainingOutcome {
        var state = TrainingState(modelId: modelId)
        if let checkpoint = run.resumableCheckpoint {
            state = try run.readState(in: checkpoint)
            try Checkpoint.load(model.store, optimizer: adam, from: checkpoint)
            log("resuming \(modelId) after epoch \(state.epochsDone) (best so far: epoch \(state.bestEpoch))")
        }
        let trainable = split.sequences.indices.filter { split.trainSequence($0).count >= 2 }
        let users = config.fold.key == .none ? trainable : Array(repeating: trainable, count: config.fold.windowsPerUser).flatMap { $0 }
        let validation = split.validationExamples
        // Every rank takes as many steps as the rank with the most users needs.
        let batchSize = parallel.rankBatchSize(config.batchSize)
        let stepsPerEpoch = parallel.communicator.maximum((users.count + batchSize - 1) / batchSize)
        let globalUsers = parallel.communicator.sum(users.count)
        let writes = parallel.rank == 0
        let schedule = config.schedule(stepsPerEpoch: stepsPerEpoch)

        while state.epochsDone < config.epochs && !state.stoppedEarly {
            let epoch = state.epochsDone + 1, started = Date()
            let epochRandom = RandomSource(seed: config.seed).split(UInt64(epoch))
            var shuffler = parallel.isDistributed ? epochRandom.split(0).split(UInt64(parallel.rank)) : epochRandom.split(0)
            let batches = EpochBatches.make(users: users, batchSize: batchSize,
                                            groupBatches: config.fold.key == .none ? config.lengthGroupBatches : 1,
                                            length: { min(self.split.trainSequence($0).count, self.config.maxLength + 1) }, rng: &shuffler)

            // Progress counts this rank's sequences (rank 0's shows).
            let progress = ProgressLine("epoch \(epoch)", unit: "seq", total: users.count, enabled: showProgress)
            var lossSum = 0.0, progressDone = 0
            for step in 0..<stepsPerEpoch {
                let batch = step < batches.count ? batches[step] : []
                model.store.zeroGrad()
                var loss = 0.0, terms = 0
                if !batch.isEmpty {
                    let sequences = batch.map { EventSequence(items: split.trainSequence($0), times: split.trainTimes($0)) }
                    var stepRandom = epochRandom.split(UInt64(step + 1))
                    if parallel.isDistributed { stepRandom = stepRandom.split(UInt64(parallel.rank)) }
                    loss = model.trainStep(sequences, rng: &stepRandom)
                    terms = model.lossTerms
                }
                loss = parallel.averageGradients(model.store, loss: loss, terms: terms)
                if config.gradientClip > 0 { model.store.clipGradients(maxNorm: config.gradientClip) }
                adam.update(lr: schedule.rate(step: adam.step + 1))
                lossSum += loss
                progress.detail = "step \(step + 1)/\(stepsPerEpoch), loss \(String(format: "%.4f", loss))"
                progress.update(done: min(progressDone + batch.count, users.count))
                progressDone += batch.count
            }
            progress.finish()
            let trainSeconds = Date().timeIntervalSince(started)
            let valid = parallel.combined(Evaluator.evaluate(model, validation))
            let seconds = Date().timeIntervalSince(started)  // the test curve's evaluation is not counted
            let test = config.testCurve ? parallel.combined(Evaluator.evaluate(model, split.testExamples)).summary : nil
            let record = EpochRecord(epoch: epoch, loss: lossSum / Double(max(stepsPerEpoch, 1)), valid: valid.summary, test: test,
                                     seconds: seconds,
                                     sequencesPerSecond: Double(globalUsers) / max(trainSeconds, 1e-9))
            state.history.append(record)
            state.epochsDone = epoch
            state.trainSeconds += record.seconds
            let improved = valid.ndcg(at: 10) > state.bestValidNDCG
            if improved {
                state.bestValidNDCG = valid.ndcg(at: 10)
                state.bestEpoch = epoch
                if writes { try run.replace(run.best) { try Checkpoint.save(model.store, optimizer: nil, to: $0, metadata: ["epoch": String(epoch)]) } }
                CrashPoint.reach("best")
            }
            state.stoppedEarly = epoch - state.bestEpoch >= config.patience
            let outOfTime = config.timeLimitSeconds > 0 && state.trainSeconds >= config.timeLimitSeconds
            state.stoppedEarly = state.stoppedEarly || outOfTime
            let snapshot = state
            if writes {
                try run.replace(run.checkpoint) { directory in
                    try Checkpoint.save(model.store, optimizer: adam, to: directory)
                    try JSONEncoder().encode(snapshot).write(to: directory.appendingPathComponent("state.json"))
                }
            }
            CrashPoint.reach("checkpoint")
            log(String(format: "epoch %d: loss %.4f, valid ndcg@10 %.4f hr@10 %.4f%@, %.1f s, %.0f seq/s", epoch, record.loss,
                       valid.ndcg(at: 10), valid.hitRate(at: 10), improved ? " (best)" : "", record.seconds, record.sequencesPerSecond))
        }
        if state.stoppedEarly {
            log(state.epochsDone - state.bestEpoch >= config.patience ? "early stop: no better validation NDCG@10 in \(config.patience) epochs"
                : String(format: "stopped at the time limit (%.0f s)", config.timeLimitSeconds))
        }

        // The finished model is the best epoch's weights (rank 0 has written them when the others read).
        parallel.communicator.barrier()
        try Checkpoint.load(model.store, optimizer: nil, from: run.best)
        let valid = parallel.combined(Evaluator.evaluate(model, validation))
        let test = parallel.combined(Evaluator.evaluate(model, split.testExamples))
        let testUnfiltered = parallel.combined(Evaluator.evaluate(model, split.testExamples, filterSeen: false))
        var testSampled: [String: RankingMetrics] = [:]
        let counts = parallel.combined(split.trainCounts)
        for distribution in [NegativeSampler.Distribution.uniform, .popularity] {
            let sampler = NegativeSampler(counts: counts, distribution: distribution)
            testSampled[distribution.rawValue] = parallel.combined(
                Evaluator.evaluateSampled(model, split.testExamples, sampler: sampler, seed: config.seed))
        }
        if writes { try DurableFile.write(try Data(contentsOf: run.best.appendingPathComponent(ModelArtifact.weightsFile)), to: run.modelFile) }
        CrashPoint.reach("weights")
        return TrainingOutcome(modelId: modelId, kind: config.model, state: state, valid: valid, test: test,
                               testUnfiltered: testUnfiltered, testSampled: testSampled, run: run)
    }
}
