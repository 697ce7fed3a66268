// Fuzz driver for Pleat's parsers (scripts/fuzz.sh builds it with -sanitize=fuzzer and runs every target).
//
// Built with -sanitize=fuzzer -parse-as-library -D PLEAT_LIBFUZZER, libFuzzer's main calls
// LLVMFuzzerTestOneInput with the target named in PLEAT_FUZZ_TARGET. In a normal build this is a replay
// tool: `pleat-fuzz TARGET FILE...` runs the same check on each file and exits 1 on the first violation
// (the tests replay the seed corpus with it).
import Foundation

#if PLEAT_LIBFUZZER
private let fuzzTarget: ParserCheck.Target = {
    let name = ProcessInfo.processInfo.environment["PLEAT_FUZZ_TARGET"] ?? ""
    guard let target = ParserCheck.Target(rawValue: name) else {
        FileHandle.standardError.write(Data("set PLEAT_FUZZ_TARGET to one of \(ParserCheck.Target.allCases.map(\.rawValue))\n".utf8))
        exit(2)
    }
    return target
}()

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// SwiftPM links an executable's entry point under this name; here it hands over to libFuzzer's driver.
@_cdecl("pleat_fuzz_main")
public func pleatFuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var (count, values) = (argc, argv)
    return LLVMFuzzerRunDriver(&count, &values, fuzzOneInput)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do { try ParserCheck.run(fuzzTarget, bytes) } catch {
        FileHandle.standardError.write(Data("violation: \(error)\n".utf8))
        abort()
    }
    return 0
}
#else
@main
struct ReplayDriver {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = ParserCheck.Target(rawValue: name) else {
            print("usage: pleat-fuzz TARGET FILE...  (targets: \(ParserCheck.Target.allCases.map(\.rawValue).joined(separator: ", ")))")
            exit(2)
        }
        var checked = 0
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { print("cannot read \(path)"); exit(2) }
            do { try ParserCheck.run(target, Array(data)) } catch {
                print("\(path): \(error)")
                exit(1)
            }
            checked += 1
        }
        print("\(target.rawValue): \(checked) inputs, no violation")
    }
}
#endif
