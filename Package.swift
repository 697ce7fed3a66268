// swift-tools-version: 6.1
import PackageDescription

/// Release builds need AVX2/FMA for SIMD kernels (see shared stack notes); safe on every target machine here.
let fastMath: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
/// The numeric stages are optimised in debug builds too: unoptimised, their kernels run about 60× slower,
/// too slow for the tests that train small models.
let numeric: [SwiftSetting] = fastMath + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "Pleat",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pleat", targets: ["pleat"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0", traits: []),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Already a dependency of Hummingbird; named for the server's own header names.
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        // Already resolved for Hummingbird; named for NIOCore's IOError (a bind failure's errno).
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
    ],
    targets: [
        // System libraries from Debian, found through pkg-config.
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // CPU identification, and the check that stops Pleat on a CPU without x86-64-v3 before any code
        // built for it runs: compiled for baseline x86-64 (no -march). OpenBLAS is not linked but loaded at
        // run time (PleatTensor's BLASLibrary), so its kernel can be chosen first.
        .target(name: "CPleatCPU"),
        // 16-lane AVX-512 versions of the element-wise row kernels, each function with its own target
        // attribute (the binary stays x86-64-v3); PleatTensor calls them only on a CPU with AVX-512F.
        // Optimised in debug builds too: intrinsics at -O0 run dozens of times slower (the tests use them).
        .target(name: "CPleatKernels", cSettings: [.unsafeFlags(["-O2"])]),

        // Stages, lowest first: each depends only on the ones above it in this list.
        .target(name: "PleatCore", dependencies: ["CPleatCPU"], swiftSettings: numeric),
        .target(name: "PleatStorage", dependencies: ["PleatCore", "CLibPQ", "CSQLite"], swiftSettings: fastMath),
        .target(name: "PleatIngest", dependencies: ["PleatCore", "PleatStorage", "CZlib", "CZstd"], swiftSettings: fastMath),
        // Tensor kernels and layers with hand-written gradients; no database or CLI.
        .target(name: "PleatTensor", dependencies: ["PleatCore", "CPleatKernels"], swiftSettings: numeric),
        // Ranking metrics, shared by training (validation) and offline evaluation.
        .target(name: "PleatMetrics", dependencies: ["PleatCore"], swiftSettings: numeric),
        // The processes of a data-parallel job and ordered sums over them: Open MPI, loaded at run time
        // (MPILibrary) only when mpirun or srun started the process, so that pleat runs without it.
        .target(name: "PleatMPI", swiftSettings: fastMath),
        // Sequence encoders built from the engine's layers, and their training-step benchmark.
        .target(name: "PleatEncoders", dependencies: ["PleatCore", "PleatTensor"], swiftSettings: numeric),
        // Interaction histories: read from PostgreSQL in one streaming query, the item vocabulary, splits.
        .target(name: "PleatHistories", dependencies: ["PleatCore", "PleatStorage"], swiftSettings: numeric),
        // What a trained model is: its spec, objectives and batch layout, fold keys, rankers and their
        // evaluation, the artifact on disk and the registry. Training, scoring and evaluation build on it.
        .target(name: "PleatModel", dependencies: ["PleatCore", "PleatStorage", "PleatTensor", "PleatMetrics", "PleatEncoders", "PleatHistories"],
                swiftSettings: numeric),
        // The training job: config, the loop with checkpoints and resume, fold keys from the data, registration.
        .target(name: "PleatTraining", dependencies: ["PleatCore", "PleatStorage", "PleatMetrics", "PleatTensor", "PleatHistories", "PleatModel",
                                                      "PleatMPI"],
                swiftSettings: numeric),
        // The scoring stage: batch top-K into the SQLite cache, and answers from it (live when stale).
        .target(name: "PleatScoring", dependencies: ["PleatCore", "PleatStorage", "PleatTensor", "PleatMetrics", "PleatHistories", "PleatModel"],
                swiftSettings: numeric),
        // Offline evaluation: models and baselines on one split, reports (HTML, Markdown, JSON), evaluation_runs.
        .target(name: "PleatEvaluation", dependencies: ["PleatCore", "PleatStorage", "PleatTensor", "PleatMetrics", "PleatHistories", "PleatModel",
                                                        "PleatScoring"],
                swiftSettings: numeric),
        // Pipelines (pipelines/*.yaml: ingest -> train -> score -> evaluate) and scheduled jobs (jobs/*.yaml).
        .target(name: "PleatPipeline", dependencies: ["PleatCore", "PleatStorage", "PleatIngest", "PleatMetrics", "PleatModel", "PleatTraining",
                                                      "PleatScoring", "PleatEvaluation", .product(name: "Yams", package: "Yams")],
                swiftSettings: fastMath),
        // The HTTP face of the scoring stage.
        .target(name: "PleatServer", dependencies: ["PleatCore", "PleatStorage", "PleatScoring", .product(name: "Hummingbird", package: "hummingbird"),
                                                    .product(name: "HummingbirdCore", package: "hummingbird"),
                                                    .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "NIOCore", package: "swift-nio")],
                swiftSettings: fastMath),
        // `pleat bench`'s benchmarks: training steps, folding, gradient exchange, recommendation latency.
        .target(name: "PleatBenchmarks", dependencies: ["PleatCore", "PleatStorage", "PleatTensor", "PleatEncoders", "PleatHistories",
                                                        "PleatModel", "PleatTraining", "PleatScoring"],
                swiftSettings: fastMath),
        .executableTarget(
            name: "pleat",
            dependencies: [
                "PleatCore", "PleatStorage", "PleatIngest", "PleatTensor", "PleatMetrics", "PleatEncoders", "PleatHistories", "PleatModel",
                "PleatTraining", "PleatScoring", "PleatServer", "PleatEvaluation", "PleatPipeline", "PleatMPI", "PleatBenchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: fastMath),

        // The parsers' fuzz driver (scripts/fuzz.sh builds it with -sanitize=fuzzer); a corpus replay tool otherwise.
        .executableTarget(name: "pleat-fuzz", dependencies: ["PleatIngest"], path: "Sources/pleat-fuzz", swiftSettings: fastMath),

        // Test helpers (a throwaway PostgreSQL, gradient checks, a small trained fixture); used only by test targets.
        .target(name: "PleatTestSupport", dependencies: ["PleatCore", "PleatStorage", "PleatTensor", "PleatMetrics", "PleatIngest", "PleatModel", "PleatTraining",
                                                          "PleatScoring"]),
        .testTarget(name: "PleatCoreTests", dependencies: ["PleatCore"]),
        .testTarget(name: "PleatTensorTests", dependencies: ["PleatCore", "CPleatKernels", "PleatTensor", "PleatTestSupport"]),
        .testTarget(name: "PleatMetricsTests", dependencies: ["PleatCore", "PleatMetrics"]),
        .testTarget(name: "PleatTrainingTests", dependencies: ["PleatCore", "PleatStorage", "PleatMetrics", "PleatIngest", "PleatTensor", "PleatHistories", "PleatEncoders", "PleatModel",
                                                           "PleatTraining", "PleatBenchmarks", "PleatTestSupport"]),
        .testTarget(name: "PleatEncodersTests", dependencies: ["PleatCore", "PleatTensor", "PleatEncoders", "PleatTestSupport"]),
        .testTarget(name: "PleatStorageTests", dependencies: ["PleatCore", "PleatStorage", "PleatTestSupport"]),
        .testTarget(name: "PleatScoringTests", dependencies: ["PleatCore", "PleatStorage", "PleatMetrics", "PleatHistories", "PleatTensor", "PleatModel", "PleatTraining", "PleatScoring",
                                                          "PleatTestSupport"]),
        .testTarget(name: "PleatEvaluationTests", dependencies: ["PleatCore", "PleatStorage", "PleatIngest", "PleatMetrics", "PleatHistories", "PleatModel",
                                                             "PleatTraining", "PleatScoring", "PleatEvaluation", "PleatTestSupport"]),
        .testTarget(name: "PleatPipelineTests", dependencies: ["PleatCore", "PleatStorage", "PleatIngest", "PleatHistories", "PleatTensor", "PleatModel", "PleatTraining",
                                                           "PleatScoring", "PleatEvaluation", "PleatPipeline", "PleatTestSupport"]),
        .testTarget(name: "PleatIngestTests", dependencies: ["PleatCore", "PleatStorage", "PleatIngest", "PleatTestSupport"]),
        .testTarget(name: "PleatHistoriesTests", dependencies: ["PleatCore", "PleatStorage", "PleatIngest", "PleatHistories", "PleatTestSupport"]),
        .testTarget(name: "PleatModelTests", dependencies: ["PleatCore", "PleatMetrics", "PleatTensor", "PleatHistories", "PleatEncoders", "PleatModel", "PleatTestSupport"]),
        .testTarget(name: "PleatServerTests", dependencies: ["PleatCore", "PleatStorage", "PleatMetrics", "PleatHistories", "PleatModel",
                                                         "PleatTraining", "PleatScoring", "PleatServer", "PleatTestSupport"]),
        .testTarget(name: "PleatMPITests", dependencies: ["PleatMPI"]),
    ]
)
