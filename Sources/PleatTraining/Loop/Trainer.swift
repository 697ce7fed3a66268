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
    /// Test metrics under the config's seen-items rule.
    public let test: RankingMetrics
    /// Test metrics under each seen-items rule (the config's is `test`), by rule name.
    public let testByRule: [String: MetricSummary]
    /// Test metrics under the config's rule, repeat targets and new ones apart.
    public let testTargets: RepeatBreakdown
    /// Test metrics against 100 sampled negatives, by distribution (`uniform`, `popularity`).
    public let testSampled: [String: RankingMetrics]
    /// The repeat head's ranking shift δ (`RepeatShift`), for models with the head.
    public let repeatShift: Float?
    public let run: RunDirectory
}

/// The training loop: shuffled mini-batches, Adam, validation (full-ranking NDCG@10) after every
/// epoch, the best epoch's weights kept, a checkpoint per epoch, early stopping, and resumption from
/// the last checkpoint that repeats the uninterrupted run exactly (every epoch's randomness derives from
/// the seed and the epoch number alone). With `refit`, a second pass then trains the initial weights
/// for the chosen number of epochs on the validation events too, and that is the model.
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
    /// The fold keys the model was built with (the refit pass builds its initial weights again).
    let foldKeys: FoldKeys?
    /// A warm start's parent weights and the users it trains; nil: random weights, every user.
    let warmStart: WarmStart?
    /// What chooses the epoch: this rank's validation metrics of the model. By default full ranking under
    /// the config's seen-items rule, as the served lists are ranked; a synthetic benchmark may probe
    /// something else (`FoldQualityBenchmark`). A model with a repeat head under `seen = include` is
    /// validated by `Evaluator.evaluateShifts` instead, which also chooses the head's shift.
    public var validationMetrics: (any ItemRanker, [SequenceSplit.Example]) -> RankingMetrics

    public init(config: TrainingConfig, split: SequenceSplit, run: RunDirectory, foldKeys: FoldKeys? = nil, warmStart: WarmStart? = nil,
                showProgress: Bool = true,
                communicator: Communicator = .single,
                log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        parallel = DataParallel(communicator)
        self.config = config
        self.split = split
        self.run = run
        self.showProgress = showProgress
        self.log = log
        self.foldKeys = foldKeys
        self.warmStart = warmStart
        precondition(warmStart.map { $0.trains.count == split.sequences.count && $0.vocabulary.count == split.vocabulary.count } ?? true,
                     "a warm start made for other data")
        let seen = config.seen
        validationMetrics = { Evaluator.evaluate($0, $1, seen: seen) }
        model = config.spec.makeModel(batchSize: parallel.rankBatchSize(config.batchSize), seed: config.seed, items: split.vocabulary.count, foldKeys: foldKeys)
        adam = Adam(model.store)
        adam.beta2 = config.adamBeta2
        adam.weightDecay = config.weightDecay
    }

    /// Trains from scratch (or from a warm start's parent), or from the run's last checkpoint when it has
    /// one: the epochs validation chooses from, then (`refit`) the refit pass; each epoch of either ends
    /// in a checkpoint. A warm start chooses its epoch on the validation events of the users with events
    /// since its parent, and reports its validation figures on every user's, as a cold start does.
    public func train(modelId: String) throws -> TrainingOutcome {
        var state = TrainingState(modelId: modelId)
        if let checkpoint = run.resumableCheckpoint {
            state = try run.readState(in: checkpoint)
            try Checkpoint.load(model.store, optimizer: adam, from: checkpoint)
            log("resuming \(modelId) after epoch \(state.epochsDone)\(state.history.refitPass.isEmpty ? "" : " and refit epoch \(state.history.refitPass.count)") "
                + "(best so far: epoch \(state.bestEpoch))")
        } else if let warmStart {
            let continues = try warmStart.initialise(model.store, optimizer: adam)
            log("warm start from \(warmStart.parent.id)" + (continues ? ", continuing its optimiser (step \(adam.step))" : ", a fresh optimiser"))
        }
        let validation = split.validationExamples
        logRepeatShare()
        // A warm start chooses on its changed users' validation events (what the parent has not seen),
        // or, when none has one, on those of every user it trains.
        let changed = validation.filter { warmStart?.changed[$0.user] ?? true }
        try select(&state, validation: parallel.communicator.sum(changed.count) > 0 ? changed : validation.filter { trains($0.user) })

        // The chosen epoch's weights (rank 0 has written them when the others read), and their validation figures.
        parallel.communicator.barrier()
        try Checkpoint.load(model.store, optimizer: nil, from: run.best)
        let valid = parallel.combined(validationMetrics(model, validation))
        if config.refit { try refit(&state) }
        let finished = try warmStart?.finish(model.store) ?? false

        // The finished model: the chosen epoch's weights, or the refit pass's last.
        let testExamples = split.testExamples
        let ranks = Evaluator.ranked(model, testExamples, seen: config.seen).ranks
        let test = parallel.combined(Evaluator.metrics(ranks: ranks))
        let targets = Evaluator.repeatBreakdown(ranks: ranks, testExamples)
        let testTargets = RepeatBreakdown(repeats: parallel.combined(targets.repeats), new: parallel.combined(targets.new))
        var testByRule = [config.seen.rawValue: test.summary]
        for other in SeenItems.allCases where other != config.seen {
            testByRule[other.rawValue] = parallel.combined(Evaluator.evaluate(model, testExamples, seen: other)).summary
        }
        var testSampled: [String: RankingMetrics] = [:]
        let counts = parallel.combined(split.trainCounts)
        for distribution in [NegativeSampler.Distribution.uniform, .popularity] {
            let sampler = NegativeSampler(counts: counts, distribution: distribution)
            testSampled[distribution.rawValue] = parallel.combined(
                Evaluator.evaluateSampled(model, testExamples, seen: config.seen, sampler: sampler, seed: config.seed))
        }
        let weights = config.refit ? run.checkpoint : run.best
        if parallel.rank == 0 {
            if finished {  // the weights differ from the checkpoint's by the cold items' rows
                try Checkpoint.save(model.store, optimizer: nil, to: run.url, metadata: ["epoch": String(state.bestEpoch)])
            } else {
                try DurableFile.write(try Data(contentsOf: weights.appendingPathComponent(ModelArtifact.weightsFile)), to: run.modelFile)
            }
            // The weights' optimiser state, for a warm start from this model to continue.
            try DurableFile.write(try Data(contentsOf: weights.appendingPathComponent(ModelArtifact.optimizerFile)),
                                  to: run.url.appendingPathComponent(ModelArtifact.optimizerFile))
        }
        CrashPoint.reach("weights")
        return TrainingOutcome(modelId: modelId, kind: config.model, state: state, valid: valid, test: test,
                               testByRule: testByRule, testTargets: testTargets, testSampled: testSampled,
                               repeatShift: model.repeatShift?.value, run: run)
    }

    /// Whether the run trains on the user in slot `user` (every user, unless warm-started).
    private func trains(_ user: Int) -> Bool { warmStart?.trains[user] ?? true }

    /// Says how many validation and test targets the user has already seen, and what the rule makes of
    /// them: on a log where people come back to items, the rule decides what the figures mean.
    private func logRepeatShare() {
        func share(_ examples: [SequenceSplit.Example]) -> (repeats: Int, all: Int) {
            let local = (examples.filter(\.isRepeat).count, examples.count)
            return (parallel.communicator.sum(local.0), parallel.communicator.sum(local.1))
        }
        let valid = share(split.validationExamples), test = share(split.testExamples)
        func percent(_ s: (repeats: Int, all: Int)) -> String {
            String(format: "%.1f%% (%@ of %@)", 100 * Double(s.repeats) / Double(max(s.all, 1)), Format.count(s.repeats), Format.count(s.all))
        }
        let consequence = config.seen == .exclude ? "served lists leave seen items out, so a repeat target counts as a miss"
            : "served lists may repeat seen items, so a repeat target can be a hit"
        log("repeat targets (already seen by the user): validation \(percent(valid)), test \(percent(test)); seen = \(config.seen.rawValue): \(consequence)")
    }

    /// The epochs validation chooses from: after each, validation NDCG@10 decides whether it is the best
    /// so far (its weights kept in `best/`) and whether to stop.
    private func select(_ state: inout TrainingState, validation: [SequenceSplit.Example]) throws {
        if let warmStart, state.epochsDone == 0 {
            try validateParent(&state, validation: validation)
            // Epoch 0 stays the parent's own weights; the epochs start from the shrunk ones.
            warmStart.shrink(model.store, towards: freshModel().store)
        }
        let pass = Pass(self, users: split.sequences.indices.filter { split.trainSequence($0).count >= 2 && trains($0) }, random: RandomSource(seed: config.seed)) {
            let behaviours = self.split.trainBehaviours($0)
            return EventSequence(items: self.split.trainSequence($0), times: self.split.trainTimes($0), targets: self.targets(behaviours),
                                 behaviours: behaviours, values: self.split.trainValues($0))
        }
        while state.epochsDone < config.epochLimit && !state.stoppedEarly {
            let epoch = state.epochsDone + 1, started = Date()
            let loss = trainEpoch(epoch, pass, label: "epoch \(epoch)")
            try requireFinite(loss, "epoch \(epoch)")
            let trainSeconds = Date().timeIntervalSince(started)
            let (valid, nextShift) = validate(validation)
            let seconds = Date().timeIntervalSince(started)  // the test curve's evaluation is not counted
            let record = EpochRecord(epoch: epoch, loss: loss, valid: valid.summary, test: testCurvePoint(),
                                     seconds: seconds, sequencesPerSecond: Double(pass.globalUsers) / max(trainSeconds, 1e-9))
            state.history.append(record)
            state.epochsDone = epoch
            state.trainSeconds += record.seconds
            let improved = valid.ndcg(at: 10) > state.bestValidNDCG
            if improved {
                state.bestValidNDCG = valid.ndcg(at: 10)
                state.bestEpoch = epoch
                if parallel.rank == 0 { try run.replace(run.best) { try Checkpoint.save(model.store, optimizer: adam, to: $0, metadata: ["epoch": String(epoch)]) } }
                CrashPoint.reach("best")
            }
            var shiftNote = ""
            if let shift = model.repeatShift, let nextShift, nextShift != shift.value {
                shiftNote = String(format: ", repeat shift %.2f → %.2f", shift.value, nextShift)
                shift.value = nextShift  // after `best/` has kept the shift its figures were measured with
            }
            state.stoppedEarly = epoch - state.bestEpoch >= config.patience
            let outOfTime = config.timeLimitSeconds > 0 && state.trainSeconds >= config.timeLimitSeconds
            state.stoppedEarly = state.stoppedEarly || outOfTime
            try saveCheckpoint(state)
            log(String(format: "epoch %d: loss %.4f, valid ndcg@10 %.4f hr@10 %.4f%@, %.1f s, %.0f seq/s", epoch, record.loss,
                       valid.ndcg(at: 10), valid.hitRate(at: 10), improved ? " (best)" : "", record.seconds, record.sequencesPerSecond) + shiftNote)
        }
        if state.stoppedEarly && state.history.refitPass.isEmpty {
            log(state.epochsDone - state.bestEpoch >= config.patience ? "early stop: no better validation NDCG@10 in \(config.patience) epochs"
                : String(format: "stopped at the time limit (%.0f s)", config.timeLimitSeconds))
        }
    }

    /// The model as this run's seed initialises it.
    private func freshModel() -> any NextItemModel {
        config.spec.makeModel(batchSize: parallel.rankBatchSize(config.batchSize), seed: config.seed, items: split.vocabulary.count,
                              foldKeys: foldKeys)
    }

    /// A warm start's epoch 0: the parent's weights (new rows as they start) are validated first, and an
    /// epoch must beat them to be chosen, so a warm start that only loses ground serves its parent's
    /// weights rather than worse ones.
    private func validateParent(_ state: inout TrainingState, validation: [SequenceSplit.Example]) throws {
        let (valid, _) = validate(validation)
        state.bestValidNDCG = valid.ndcg(at: 10)
        state.bestEpoch = 0
        if parallel.rank == 0 { try run.replace(run.best) { try Checkpoint.save(model.store, optimizer: adam, to: $0, metadata: ["epoch": "0"]) } }
        log(String(format: "epoch 0 (the parent's weights): valid ndcg@10 %.4f hr@10 %.4f", valid.ndcg(at: 10), valid.hitRate(at: 10)))
    }

    /// This epoch's validation metrics (`validationMetrics`) and, for a model with a repeat head under
    /// `seen = include`, the shift δ validation ranks best (`RepeatShift`), from the same pass: the
    /// current δ plus the step with the highest NDCG@10, the smaller step among equals.
    private func validate(_ validation: [SequenceSplit.Example]) -> (metrics: RankingMetrics, nextShift: Float?) {
        guard config.seen == .include, let shift = model.repeatShift else {
            return (parallel.combined(validationMetrics(model, validation)), nil)
        }
        var (metrics, sums) = Evaluator.evaluateShifts(model, validation, shift: shift)
        parallel.communicator.sumInRankOrder(&sums)
        let steps = RepeatShift.steps
        let best = steps.indices.max { (sums[$0], -abs(steps[$0])) < (sums[$1], -abs(steps[$1])) }!
        return (parallel.combined(metrics), shift.value + steps[best])
    }

    /// The refit pass: the initial weights and a fresh optimiser, then the chosen number of epochs over
    /// every event before the test targets, with the schedule of the first pass. Resumes from the
    /// checkpoint of its last finished epoch.
    private func refit(_ state: inout TrainingState) throws {
        let epochs = state.bestEpoch, done = state.history.refitPass.count
        if done == 0 {
            let initial = freshModel()
            let chosenShift = model.repeatShift?.value  // validation's choice, which refitting cannot remake
            model.store.copyValues(from: initial.store)
            if let warmStart {
                try warmStart.initialise(model.store, optimizer: adam)
                warmStart.shrink(model.store, towards: initial.store)
            }
            if let chosenShift { model.repeatShift?.value = chosenShift }
            if warmStart == nil { adam.reset() }
        } else {
            guard let checkpoint = run.resumableCheckpoint else { throw ConfigError(description: "\(run.modelId): refit epochs recorded but no checkpoint") }
            try Checkpoint.load(model.store, optimizer: adam, from: checkpoint)
        }
        log("refit: \(epochs) epochs (the chosen number) on the training and validation events")
        let pass = Pass(self, users: split.sequences.indices.filter { split.pastSequence($0).count >= 2 && trains($0) },
                        random: RandomSource(seed: config.seed).split(.max)) {
            let behaviours = self.split.pastBehaviours($0)
            return EventSequence(items: self.split.pastSequence($0), times: self.split.pastTimes($0), targets: self.targets(behaviours),
                                 behaviours: behaviours, values: self.split.pastValues($0))
        }
        for epoch in stride(from: done + 1, through: epochs, by: 1) {
            let started = Date()
            let loss = trainEpoch(epoch, pass, label: "refit \(epoch)/\(epochs)")
            try requireFinite(loss, "refit epoch \(epoch)")
            let seconds = Date().timeIntervalSince(started)
            let record = EpochRecord(epoch: epoch, loss: loss, valid: MetricSummary(), test: testCurvePoint(), seconds: seconds,
                                     sequencesPerSecond: Double(pass.globalUsers) / max(seconds, 1e-9), refit: true)
            state.history.append(record)
            state.trainSeconds += seconds
            try saveCheckpoint(state)
            log(String(format: "refit epoch %d/%d: loss %.4f, %.1f s, %.0f seq/s", epoch, epochs, loss, seconds, record.sequencesPerSecond))
        }
    }

    /// The users one pass trains on, how their sequences are drawn, and what follows from them.
    private struct Pass {
        let users: [Int]
        let sequence: (Int) -> EventSequence
        /// Every epoch's randomness derives from this, the epoch number and the step alone.
        let random: RandomSource
        /// Every rank takes as many steps as the rank with the most users needs.
        let stepsPerEpoch: Int
        let globalUsers: Int
        let schedule: LearningRateSchedule

        init(_ trainer: Trainer, users: [Int], random: RandomSource, sequence: @escaping (Int) -> EventSequence) {
            let config = trainer.config, parallel = trainer.parallel
            self.users = config.fold.key == .none ? users : Array(repeating: users, count: config.fold.windowsPerUser).flatMap { $0 }
            self.sequence = sequence
            self.random = random
            let batchSize = parallel.rankBatchSize(config.batchSize)
            stepsPerEpoch = parallel.communicator.maximum((self.users.count + batchSize - 1) / batchSize)
            globalUsers = parallel.communicator.sum(self.users.count)
            schedule = config.schedule(stepsPerEpoch: stepsPerEpoch)
        }
    }

    /// One epoch of `pass`: shuffled batches (of like lengths when `length_group_batches` > 1), one Adam
    /// step each, gradients averaged over the ranks. Returns the mean loss over the steps.
    /// Which of a training sequence's events are labels: those of the split's target behaviours (nil
    /// when every event is one).
    private func targets(_ behaviours: ArraySlice<Int16>) -> ArraySlice<Bool>? {
        guard split.targetBehaviours != nil else { return nil }
        return ArraySlice(behaviours.map(split.isTarget))
    }

    private func trainEpoch(_ epoch: Int, _ pass: Pass, label: String) -> Double {
        let epochRandom = pass.random.split(UInt64(epoch))
        var shuffler = parallel.isDistributed ? epochRandom.split(0).split(UInt64(parallel.rank)) : epochRandom.split(0)
        let length = { min(pass.sequence($0).items.count, self.config.maxLength + 1) }
        let batches = EpochBatches.make(users: pass.users, batchSize: parallel.rankBatchSize(config.batchSize),
                                        groupBatches: config.fold.key == .none ? config.lengthGroupBatches : 1,
                                        length: length, rng: &shuffler)
        let weights = config.positionWeightedSteps ? EpochBatches.positionWeights(batches, positions: { max(length($0) - 1, 0) }) : nil
        // Progress counts this rank's sequences (rank 0's shows).
        let progress = ProgressLine(label, unit: "seq", total: pass.users.count, enabled: showProgress)
        var lossSum = 0.0, progressDone = 0
        for step in 0..<pass.stepsPerEpoch {
            let batch = step < batches.count ? batches[step] : []
            model.store.zeroGrad()
            var loss = 0.0, terms = 0
            if !batch.isEmpty {
                var stepRandom = epochRandom.split(UInt64(step + 1))
                if parallel.isDistributed { stepRandom = stepRandom.split(UInt64(parallel.rank)) }
                loss = model.trainStep(batch.map(pass.sequence), rng: &stepRandom)
                terms = model.lossTerms
                if let weights { model.store.scaleGradients(by: weights[step]) }
            }
            loss = parallel.averageGradients(model.store, loss: loss, terms: terms)
            if config.gradientClip > 0 { model.store.clipGradients(maxNorm: config.gradientClip) }
            adam.update(lr: pass.schedule.rate(step: adam.step + 1))
            lossSum += loss
            progress.detail = "step \(step + 1)/\(pass.stepsPerEpoch), loss \(String(format: "%.4f", loss))"
            progress.update(done: min(progressDone + batch.count, pass.users.count))
            progressDone += batch.count
        }
        progress.finish()
        return lossSum / Double(max(pass.stepsPerEpoch, 1))
    }

    /// Stops a run whose loss overflowed: its weights are lost, and no later epoch can recover them.
    private func requireFinite(_ loss: Double, _ epoch: String) throws {
        guard !loss.isFinite else { return }
        let rate = warmStart == nil ? "learning_rate" : "warm_start.learning_rate"
        throw ConfigError(description: "\(run.modelId): training diverged in \(epoch) (mean loss \(loss)): lower \(rate)"
                          + (config.gradientClip > 0 ? "" : " or set gradient_clip"))
    }

    /// This epoch's test metrics when the run records the test curve (`test_curve`); not timed.
    private func testCurvePoint() -> MetricSummary? {
        config.testCurve ? parallel.combined(Evaluator.evaluate(model, split.testExamples, seen: config.seen)).summary : nil
    }

    /// The last finished epoch's weights, optimiser and state (rank 0 writes).
    private func saveCheckpoint(_ state: TrainingState) throws {
        if parallel.rank == 0 {
            try run.replace(run.checkpoint) { directory in
                try Checkpoint.save(model.store, optimizer: adam, to: directory)
                try JSONEncoder().encode(state).write(to: directory.appendingPathComponent("state.json"))
            }
        }
        CrashPoint.reach("checkpoint")
    }
}
