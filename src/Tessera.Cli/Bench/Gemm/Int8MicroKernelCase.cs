using System.Runtime.InteropServices;
using Tessera.Kernels.Quantization;

namespace Tessera.Cli.Bench.Gemm;

/// <summary>
/// `bench-gemm --micro-kernel`, int8: the integer GEMM's register tile alone. B is packed once into 16-column panels
/// (<see cref="QgemmPackedB"/>), A once into rows K-padded to the kernel's K group and, for the widened kernels, zero-
/// extended to 16 bits as <see cref="QgemmBlock"/> leaves them; every call runs the micro-kernel over each Mr-row tile
/// and panel, storing its raw int32 tile: no packing of A, zero-point correction or float epilogue. 6x16x128 keeps
/// the operands in L1 (10 KiB).
/// </summary>
internal sealed unsafe class Int8MicroKernelCase : IGemmCase
{
    private readonly QgemmConfig _config;
    private readonly int _tiles;
    private readonly byte* _a;
    private readonly byte* _b;
    private readonly byte* _packedA;
    private readonly nint _lda;
    private readonly QgemmPackedB _packed;
    private readonly int* _c;

    public Int8MicroKernelCase(GemmShape shape, bool transposeB, bool sevenBit = false)
    {
        _config = QgemmConfig.ForWeights(sevenBit);
        Shape = shape;
        TransposeB = transposeB;
        int mr = _config.Mr, k = shape.K;
        _tiles = (shape.M + mr - 1) / mr;
        _a = (byte*)NativeMemory.AlignedAlloc((nuint)((long)shape.M * k), 64);
        _b = (byte*)NativeMemory.AlignedAlloc((nuint)((long)k * shape.N), 64);
        var random = new Random(20261207);
        random.NextBytes(new Span<byte>(_a, shape.M * k));
        random.NextBytes(new Span<byte>(_b, k * shape.N));
        if (sevenBit) HalveToSevenBits(_b, k * shape.N);
        _packed = QgemmPackedB.Pack(_config, _b, k, shape.N, transposeB ? 1 : shape.N, transposeB ? k : 1, signed: true);
        int kPadded = _packed.KPadded;
        _lda = (nint)kPadded * _config.ElementSize;
        long aBytes = (long)_tiles * mr * _lda;
        _packedA = (byte*)NativeMemory.AlignedAlloc((nuint)aBytes, 64);
        new Span<byte>(_packedA, (int)aBytes).Clear();
        for (int i = 0; i < shape.M; i++)
        {
            for (int p = 0; p < k; p++)
            {
                byte value = _a[(long)i * k + p];
                if (_config.ElementSize == 2) ((ushort*)(_packedA + (i * _lda)))[p] = value;
                else _packedA[(i * _lda) + p] = value;
            }
        }

        _c = (int*)NativeMemory.AlignedAlloc((nuint)((long)_tiles * _packed.Panels * mr * QgemmConfig.Nr * sizeof(int)), 64);
        CheckedRows = GemmCheck.Rows(shape);
        int count = _tiles * _packed.Panels;
        Kernel = $"qgemm {_config.Isa.ToString().ToLowerInvariant()} {mr}x{QgemmConfig.Nr} micro-kernel alone, {count} tile{(count == 1 ? "" : "s")} of packed operands, int32 tile stored";
    }

    public GemmShape Shape { get; }

    public string Kernel { get; }

    public int[] CheckedRows { get; }

    /// <summary>What the micro-kernel does per call, padding included: 2·Mr·16·K per tile (K padded to its group).</summary>
    public double Operations => 2.0 * _tiles * _config.Mr * _packed.Panels * QgemmConfig.Nr * _packed.KPadded;

    private bool TransposeB { get; }

    public void Run()
    {
        int mr = _config.Mr, groups = _packed.KPadded / _config.KGroup, panels = _packed.Panels;
        for (int t = 0; t < _tiles; t++)
        {
            for (int p = 0; p < panels; p++)
            {
                _config.Kernel(_packedA + (t * mr * _lda), _lda, _packed.Panel(p), groups, Tile(t, p));
            }
        }
    }

    /// <summary>Against exact 64-bit sums of a·b (the raw tile: the epilogue's corrections are not part of it).</summary>
    public string? Check()
    {
        var s = Shape;
        int mr = _config.Mr;
        foreach (int i in CheckedRows)
        {
            for (int j = 0; j < s.N; j++)
            {
                long sum = 0;
                for (int p = 0; p < s.K; p++)
                {
                    sum += _a[(long)i * s.K + p] * (sbyte)(TransposeB ? _b[(long)j * s.K + p] : _b[(long)p * s.N + j]);
                }

                int actual = Tile(i / mr, j / QgemmConfig.Nr)[(i % mr * QgemmConfig.Nr) + (j % QgemmConfig.Nr)];
                if (actual != sum)
                {
                    return GemmCheck.Mismatch("int8 micro-kernel", s, i, j, actual, sum, 0);
                }
            }
        }

        return null;
    }

    /// <summary>Random int8 values halved (arithmetic shift) into [-64, 63], 7-bit weights.</summary>
    internal static void HalveToSevenBits(byte* b, int count)
    {
        for (int i = 0; i < count; i++) b[i] = (byte)((sbyte)b[i] >> 1);
    }

    public void Spoil(int row, int column) => Tile(row / _config.Mr, column / QgemmConfig.Nr)[(row % _config.Mr * QgemmConfig.Nr) + (column % QgemmConfig.Nr)] += 1;

    public void Dispose()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_packedA);
        NativeMemory.AlignedFree(_c);
    }

    private int* Tile(int tile, int panel) => _c + ((long)(tile * _packed.Panels + panel) * _config.Mr * QgemmConfig.Nr);
}
