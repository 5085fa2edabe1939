using System.Runtime.InteropServices;
using Tessera.Kernels.Core;
using Tessera.Kernels.Linear;

namespace Tessera.Cli.Bench.Gemm;

/// <summary>
/// A float product through <see cref="Sgemm"/>, as a MatMul or Gemm node calls it: A row-major, B row-major K x N or
/// (transposed) N x K, either packed by every call or packed once beforehand as a weight initializer is.
/// Operands are uniform in [-1, 1) from a fixed seed.
/// </summary>
internal sealed unsafe class FloatGemmCase : IGemmCase
{
    private readonly bool _transB;
    private readonly ParallelRunner _parallel;
    private readonly float* _a;
    private readonly float* _b;
    private readonly float* _c;
    private readonly SgemmPackedB? _packed;

    public FloatGemmCase(GemmShape shape, bool transposeB, bool prepackedB, ParallelRunner parallel)
    {
        Shape = shape;
        _transB = transposeB;
        _parallel = parallel;
        _a = Allocate((long)shape.M * shape.K);
        _b = Allocate((long)shape.K * shape.N);
        _c = Allocate((long)shape.M * shape.N);
        var random = new Random(20261207);
        Fill(random, _a, (long)shape.M * shape.K);
        Fill(random, _b, (long)shape.K * shape.N);
        if (prepackedB)
        {
            _packed = SgemmPackedB.Pack(_b, Ldb, transposeB, shape.K, shape.N);
        }

        CheckedRows = GemmCheck.Rows(shape);
        Kernel = Describe(shape, prepackedB);
    }

    public GemmShape Shape { get; }

    public string Kernel { get; }

    public int[] CheckedRows { get; }

    public double Operations => Shape.Operations;

    private int Ldb => _transB ? Shape.K : Shape.N;

    public void Run()
    {
        var s = Shape;
        if (_packed is not null)
        {
            Sgemm.Multiply(false, s.M, 1f, _a, s.K, _packed, 0f, _c, s.N, _parallel);
        }
        else
        {
            Sgemm.Multiply(false, _transB, s.M, s.N, s.K, 1f, _a, s.K, _b, Ldb, 0f, _c, s.N, _parallel);
        }
    }

    public string? Check() => GemmCheck.FloatProduct("float", Shape, _a, _b, _transB, _c, Shape.N, CheckedRows);

    public void Spoil(int row, int column) => _c[(long)row * Shape.N + column] += 1f;

    public void Dispose()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_c);
    }

    // Mirrors Sgemm.Multiply's dispatch, so the report names the code that ran rather than only the machine's tile.
    private static string Describe(GemmShape s, bool prepackedB)
    {
        var cfg = SgemmConfig.Current;
        string tile = $"sgemm {cfg.Isa.ToString().ToLowerInvariant()} {cfg.Mr}x{cfg.Nr}";
        if (prepackedB && s.M <= SgemmPackedRows.MaxRows)
        {
            return $"sgemm packed rows (M <= {SgemmPackedRows.MaxRows}, no tile), B packed beforehand";
        }

        if (!prepackedB && (s.M <= 4 || s.N <= 4))
        {
            return "sgemm thin rows (M or N <= 4, no tile), B not packed";
        }

        return tile + (cfg.ReadsRowMajorA ? ", A read in place" : ", A packed")
            + (prepackedB ? ", B packed beforehand" : ", B packed per call");
    }

    private static float* Allocate(long elements) => (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(1, elements) * sizeof(float)), 64);

    private static void Fill(Random random, float* data, long count)
    {
        for (long i = 0; i < count; i++)
        {
            data[i] = (float)(random.NextDouble() * 2 - 1);
        }
    }
}
