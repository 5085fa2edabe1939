using System.CommandLine;
using Tessera.Cli.Bench.Gemm;

namespace Tessera.Cli.Commands;

/// <summary>
/// `tessera bench-gemm`: the float SGEMM or the int8 GEMM alone on given shapes, with the kernel this process picks,
/// read against the matching `tessera roofline` roof measured in the same run: the rerunnable source of the kernel
/// numbers in docs/architecture.md.
/// </summary>
internal static class BenchGemmCommand
{
    public static Command Create()
    {
        var shapes = new Option<string[]>("--shape") { Description = "MxNxK: C (M x N) = A (M x K) * B (K x N); repeat for more shapes", AllowMultipleArgumentsPerToken = false };
        var dtype = new Option<string>("--dtype") { Description = "float (SGEMM) or int8 (u8 x s8 GEMM with float output, as the quantized MatMul)", DefaultValueFactory = _ => "float" };
        var threads = new Option<int>("--threads") { Description = "threads of the product", DefaultValueFactory = _ => 1 };
        var seconds = new Option<double>("--seconds") { Description = "length of each timed window", DefaultValueFactory = _ => 0.5 };
        var rounds = new Option<int>("--rounds") { Description = "windows per shape, each after one of the roof", DefaultValueFactory = _ => 3 };
        var transposeB = new Option<bool>("--transpose-b") { Description = "B is stored N x K (a Gemm with transB, attention's Kᵀ)" };
        var prepackedB = new Option<bool>("--prepacked-b") { Description = "pack B once before timing, as a weight initializer is (default: packed by every call, as an activation)" };
        var microKernel = new Option<bool>("--micro-kernel") { Description = "time the register tile alone over operands packed once (M and N padded to whole tiles; small shapes such as 6x16x128 stay in L1)" };
        var sevenBit = new Option<bool>("--seven-bit") { Description = "int8: weights within [-64, 63] (quantize --reduce-range), which take the vpmaddubsw byte kernel on machines without VNNI (TESSERA_QGEMM_BYTES=0 keeps the widened one); the roof printed is then the byte step's" };
        var command = new Command("bench-gemm", "Time the GEMM kernel this process picks on given shapes (checked against a reference first): GFLOP/s or GOP/s, CPU time per call and the fraction of the matching roofline roof. DOTNET_EnableAVX512F=0, DOTNET_EnableAVX2=0 or TESSERA_QGEMM=avx2|portable select lower kernels")
        {
            shapes, dtype, threads, seconds, rounds, transposeB, prepackedB, microKernel, sevenBit,
        };
        command.SetAction(parse =>
        {
            var settings = GemmBenchSettings.Create(parse.GetValue(shapes) ?? [], parse.GetValue(dtype)!, parse.GetValue(threads),
                parse.GetValue(seconds), parse.GetValue(rounds), parse.GetValue(transposeB), parse.GetValue(prepackedB), parse.GetValue(microKernel), parse.GetValue(sevenBit));
            var (roof, rows) = GemmBenchRunner.Run(settings);
            Console.Write(GemmBenchReport.Format(settings, roof, rows));
            return 0;
        });
        return command;
    }
}
