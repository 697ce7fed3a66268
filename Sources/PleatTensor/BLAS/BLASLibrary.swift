import Foundation
import PleatCore

/// The BLAS that Pleat's matrix products run on: OpenBLAS, loaded at run time with the kernel that suits
/// the CPU (`BLASKernelChoice`).
///
/// OpenBLAS reads its core type once, when it is loaded, so Pleat loads it itself (`dlopen`) instead of
/// linking it: it loads the library, asks which kernel it picked, and when that wastes the CPU (or the
/// user forced another) unloads it and loads it again with `OPENBLAS_CORETYPE` set. This happens before
/// the first product of any binary that multiplies matrices, the test binary included.
///
/// BLAS runs on one thread per call: Pleat's layers split their work over the cores themselves, and
/// OpenBLAS threads on top of that would oversubscribe them.
public final class BLASLibrary: @unchecked Sendable {
    public typealias Sgemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                             UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void

    /// The file that was loaded (`PLEAT_BLAS_LIBRARY`, default `libopenblas.so.0`).
    public let library: String
    /// `openblas_get_config()`, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64".
    public let configuration: String
    /// The kernel that runs the products (`openblas_get_corename()`), and the one OpenBLAS picked by itself.
    public let kernel: String
    public let pickedKernel: String
    public let choice: BLASKernelChoice
    let sgemm: Sgemm
    private let handle: UnsafeMutableRawPointer

    /// The library every product uses, loaded on first use. A failure to load stops the process with the
    /// reason; commands call `load()` first to report it as an error instead.
    public static let shared: BLASLibrary = {
        do { return try load() } catch { fatalError("pleat: \(error)") }
    }()

    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: Result<BLASLibrary, Error>?

    /// Loads the library once per process (later calls return the same one, or the same error).
    @discardableResult
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BLASLibrary {
        lock.lock()
        defer { lock.unlock() }
        if let loaded { return try loaded.get() }
        let result = Result { try open(environment: environment) }
        loaded = result
        return try result.get()
    }

    public static let defaultLibrary = "libopenblas.so.0"

    private static func open(environment: [String: String]) throws -> BLASLibrary {
        let request = try BLASKernelChoice.Request.from(environment: environment, cpu: .current)
        let path = environment["PLEAT_BLAS_LIBRARY"] ?? defaultLibrary
        // The library's own pick: what OPENBLAS_CORETYPE would not override.
        let first = try withEnvironment(["OPENBLAS_CORETYPE": nil, "OPENBLAS_NUM_THREADS": "1"]) { try Handle(path) }
        let picked = first.coreName
        let choice = BLASKernelChoice.decide(cpu: .current, picked: picked, request: request)
        guard case .use(let kernel, _) = choice else {
            return BLASLibrary(library: path, handle: first, picked: picked, choice: choice)
        }
        first.close()
        let second = try withEnvironment(["OPENBLAS_CORETYPE": kernel.rawValue, "OPENBLAS_NUM_THREADS": "1"]) { try Handle(path) }
        guard second.coreName.lowercased() == kernel.rawValue.lowercased() else {
            throw BLASError(description: "\(path) (\(second.configuration)) does not offer the \(kernel.rawValue) kernel "
                            + "(asked for it, got \(second.coreName))")
        }
        return BLASLibrary(library: path, handle: second, picked: picked, choice: choice)
    }

    private init(library: String, handle: Handle, picked: String, choice: BLASKernelChoice) {
        self.library = library
        self.handle = handle.pointer
        self.sgemm = handle.sgemm
        self.kernel = handle.coreName
        self.configuration = handle.configuration
        self.pickedKernel = picked
        self.choice = choice
        handle.setThreads?(1)
    }

    /// One `dlopen` of the library with the symbols Pleat calls.
    private struct Handle {
        let pointer: UnsafeMutableRawPointer
        let sgemm: Sgemm
        let coreName: String
        let configuration: String
        let setThreads: (@convention(c) (Int32) -> Void)?

        init(_ path: String) throws {
            guard let pointer = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
                let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
                throw BLASError(description: "cannot load the BLAS library \(path): \(reason). Install OpenBLAS "
                                + "(Debian: apt-get install libopenblas0-pthread; scripts/setup.sh does) or name the library in PLEAT_BLAS_LIBRARY")
            }
            self.pointer = pointer
            func symbol<T>(_ name: String, as type: T.Type) -> T? { dlsym(pointer, name).map { unsafeBitCast($0, to: type) } }
            guard let sgemm = symbol("cblas_sgemm", as: Sgemm.self) else {
                dlclose(pointer)
                throw BLASError(description: "\(path) has no cblas_sgemm: it is not a CBLAS library")
            }
            self.sgemm = sgemm
            typealias Text = @convention(c) () -> UnsafePointer<CChar>?
            coreName = symbol("openblas_get_corename", as: Text.self).flatMap { $0() }.map { String(cString: $0) } ?? "unknown"
            configuration = symbol("openblas_get_config", as: Text.self).flatMap { $0() }.map { String(cString: $0) } ?? path
            setThreads = symbol("openblas_set_num_threads", as: (@convention(c) (Int32) -> Void).self)
        }

        func close() { dlclose(pointer) }
    }

    /// Runs `body` with some variables set (or unset, for nil) and puts them back afterwards, so child
    /// processes see the user's environment, not Pleat's loading arguments.
    private static func withEnvironment<T>(_ values: [String: String?], _ body: () throws -> T) rethrows -> T {
        let saved = values.keys.map { ($0, getenv($0).map { String(cString: $0) }) }
        for (name, value) in values { if let value { setenv(name, value, 1) } else { unsetenv(name) } }
        defer { for (name, value) in saved { if let value { setenv(name, value, 1) } else { unsetenv(name) } } }
        return try body()
    }
}
