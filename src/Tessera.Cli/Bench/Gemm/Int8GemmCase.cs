using System.Runtime.InteropServices;
using Tessera.Kernels.Core;
using Tessera.Kernels.Quantization;

namespace Tessera.Cli.Bench.Gemm;

/// <summary>
/// An integer product through <see cref="Qgemm"/> as the fused quantized MatMul calls it: A uint8 with zero point 128
/// (a dynamically quantized activation), B int8 with zero point 0 (symmetric weights), row-major K x N or
/// (transposed) N x K, float output (scale 1: the exact sum converted once). B is packed once beforehand (a weight)
/// or by every call into the same buffer (an activation B, as attention's).
/// </summary>
internal sealed unsafe class Int8GemmCase : IGemmCase
{
    private const int AZero = 128;
    private readonly bool _transB;
    private readonly bool _prepackedB;
    private readonly ParallelRunner _parallel;
    private readonly byte* _a;
    private readonly byte* _b;
    private readonly float* _c;
    private readonly QgemmPackedB _packed;
    private readonly QgemmOutput _output;

    public Int8GemmCase(GemmShape shape, bool transposeB, bool prepackedB, bool sevenBit, ParallelRunner parallel)
    {
        Shape = shape;
        _transB = transposeB;
        _prepackedB = prepackedB;
        _parallel = parallel;
        _a = (byte*)NativeMemory.AlignedAlloc((nuint)((long)shape.M * shape.K), 64);
        _b = (byte*)NativeMemory.AlignedAlloc((nuint)((long)shape.K * shape.N), 64);
        _c = (float*)NativeMemory.AlignedAlloc((nuint)((long)shape.M * shape.N * sizeof(float)), 64);
        var random = new Random(20261207);
        random.NextBytes(new Span<byte>(_a, shape.M * shape.K));
        random.NextBytes(new Span<byte>(_b, shape.K * shape.N));
        if (sevenBit) Int8MicroKernelCase.HalveToSevenBits(_b, shape.K * shape.N);
        var cfg = QgemmConfig.ForWeights(sevenBit);
        _packed = QgemmPackedB.Pack(cfg, _b, shape.K, shape.N, RowStride, ColStride, signed: true);
        _output = new QgemmOutput
        {
            Kind = QgemmOutputKind.Float,
            Data = (byte*)_c,
            RowStride = shape.N,
            ColStride = 1,
            AZero = AZero,
            BZero = new int[shape.N],
            ColumnSums = _packed.ColumnSums,
            K = shape.K,
            Scale = Enumerable.Repeat(1f, shape.N).ToArray(),
        };
        CheckedRows = GemmCheck.Rows(shape);
        Kernel = $"qgemm {cfg.Isa.ToString().ToLowerInvariant()} {cfg.Mr}x{QgemmConfig.Nr}, float output"
            + (prepackedB ? ", B packed beforehand" : ", B packed per call");
    }

    public GemmShape Shape { get; }

    public string Kernel { get; }

    public int[] CheckedRows { get; }

    public double Operations => Shape.Operations;

    private nint RowStride => _transB ? 1 : Shape.N;

    private nint ColStride => _transB ? Shape.K : 1;

    public void Run()
    {
        if (!_prepackedB)
        {
            _packed.PackFrom(_b, RowStride, ColStride, signed: true);
        }

        Qgemm.Multiply(Shape.M, _packed, new QgemmMatrixRows(_a, Shape.K, Shape.K, signed: false), _output, _parallel);
    }

    /// <summary>Against exact 64-bit sums of (a - 128)·b: the float output may differ only by converting that sum once.</summary>
    public string? Check()
    {
        var s = Shape;
        foreach (int i in CheckedRows)
        {
            for (int j = 0; j < s.N; j++)
            {
                long sum = 0;
                for (int p = 0; p < s.K; p++)
                {
                    sbyte b = (sbyte)(_transB ? _b[(long)j * s.K + p] : _b[(long)p * s.N + j]);
                    sum += (_a[(long)i * s.K + p] - AZero) * b;
                }

                double actual = _c[(long)i * s.N + j];
                double allowed = Math.Abs(sum) * Math.ScaleB(1.0, -24);
                if (!(Math.Abs(actual - sum) <= allowed))
                {
                    return GemmCheck.Mismatch("int8", s, i, j, actual, sum, allowed);
                }
            }
        }

        return null;
    }

    public void Spoil(int row, int column) => _c[(long)row * Shape.N + column] += 1f;

    public void Dispose()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_c);
    }
}
