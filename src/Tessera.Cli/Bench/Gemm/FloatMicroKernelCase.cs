using System.Runtime.InteropServices;
using Tessera.Kernels.Linear;

namespace Tessera.Cli.Bench.Gemm;

/// <summary>
/// `bench-gemm --micro-kernel`, float: the SGEMM register tile alone. A and B are packed once into Mr-row slivers and
/// Nr-column panels K deep (M and N padded to whole tiles), and every call runs the micro-kernel over each sliver and
/// panel pair, storing its tile: no packing, blocking, threads or edge handling. With a small shape the operands stay
/// in L1 (6x16x128 or 8x48x128: 28-40 KiB), which measures the tile against its roof.
/// </summary>
internal sealed unsafe class FloatMicroKernelCase : IGemmCase
{
    private readonly SgemmConfig _config = SgemmConfig.Current;
    private readonly int _slivers;
    private readonly int _panels;
    private readonly float* _a;
    private readonly float* _b;
    private readonly float* _packedA;
    private readonly float* _packedB;
    private readonly float* _c;

    public FloatMicroKernelCase(GemmShape shape, bool transposeB)
    {
        Shape = shape;
        int mr = _config.Mr, nr = _config.Nr, k = shape.K;
        _slivers = (shape.M + mr - 1) / mr;
        _panels = (shape.N + nr - 1) / nr;
        _a = Allocate((long)shape.M * k);
        _b = Allocate((long)k * shape.N);
        _packedA = Allocate((long)_slivers * mr * k);
        _packedB = Allocate((long)_panels * nr * k);
        _c = Allocate((long)_slivers * mr * Ldc);
        var random = new Random(20261207);
        for (long i = 0; i < (long)shape.M * k; i++) _a[i] = (float)(random.NextDouble() * 2 - 1);
        for (long i = 0; i < (long)k * shape.N; i++) _b[i] = (float)(random.NextDouble() * 2 - 1);
        TransposeB = transposeB;
        SgemmPacking.PackA(_a, k, false, 0, shape.M, 0, k, 1f, mr, _packedA);
        SgemmPacking.PackB(_b, transposeB ? k : shape.N, transposeB, 0, shape.N, 0, k, nr, 0, _panels, _packedB);
        CheckedRows = GemmCheck.Rows(shape);
        Kernel = $"sgemm {_config.Isa.ToString().ToLowerInvariant()} {mr}x{nr} micro-kernel alone, {_slivers * _panels} tile{(_slivers * _panels == 1 ? "" : "s")} of packed operands";
    }

    public GemmShape Shape { get; }

    public string Kernel { get; }

    public int[] CheckedRows { get; }

    /// <summary>What the micro-kernel does per call, padding included: 2·Mr·Nr·K per tile.</summary>
    public double Operations => 2.0 * _slivers * _config.Mr * _panels * _config.Nr * Shape.K;

    private bool TransposeB { get; }

    private int Ldc => _panels * _config.Nr;

    public void Run()
    {
        int mr = _config.Mr, nr = _config.Nr, k = Shape.K, ldc = Ldc;
        for (int s = 0; s < _slivers; s++)
        {
            for (int p = 0; p < _panels; p++)
            {
                _config.Kernel(_packedA + (long)s * mr * k, _packedB + (long)p * nr * k, _c + ((long)s * mr * ldc) + (p * nr), ldc, k, false);
            }
        }
    }

    public string? Check() => GemmCheck.FloatProduct("float micro-kernel", Shape, _a, _b, TransposeB, _c, Ldc, CheckedRows);

    public void Spoil(int row, int column) => _c[(long)row * Ldc + column] += 1f;

    public void Dispose()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_packedA);
        NativeMemory.AlignedFree(_packedB);
        NativeMemory.AlignedFree(_c);
    }

    private static float* Allocate(long elements) => (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(1, elements) * sizeof(float)), 64);
}
