using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The u8 × s8 → s32 micro-kernel chosen for this machine and how its operands are laid out. Every kernel computes
/// Mr rows by <see cref="Nr"/> columns. VNNI multiplies four bytes at a time, so it reads K in groups of 4 bytes;
/// the AVX-512BW, AVX2 and Vector128 kernels widen both operands to 16 bits first (vpmaddwd sums two exact 16 × 16-bit
/// products into 32 bits, where vpmaddubsw's 16-bit pair sums would saturate) and read K in pairs of 16-bit values,
/// all three from the same packed B. A constant B of 7-bit values (<see cref="ForWeights(byte*, long, bool)"/>) takes
/// the byte kernels instead where the best kernel is a widened one: VNNI's byte layout, vpmaddubsw then vpmaddwd by ones.
/// </summary>
internal sealed class QgemmConfig
{
    public const int Nr = 16;

    private QgemmConfig(QgemmIsa isa, int mr)
    {
        Isa = isa;
        Mr = mr;
    }

    /// <summary>The best kernel this process may use; TESSERA_QGEMM=avx512bw|avx2|portable picks a lower one (for tests and benchmarks).</summary>
    public static QgemmConfig Current { get; } = Detect();

    public QgemmIsa Isa { get; }

    public int Mr { get; }

    /// <summary>K values per step: 4 bytes for VNNI and the 7-bit byte kernels, 2 shorts otherwise.</summary>
    public int KGroup => ReadsBytes ? 4 : 2;

    /// <summary>Bytes per packed element: VNNI and the 7-bit kernels read bytes, the others 16-bit values.</summary>
    public int ElementSize => ReadsBytes ? 1 : 2;

    /// <summary>Whether this config's B must hold 7-bit values (within [-64, 64]): vpmaddubsw's pair sums saturate beyond.</summary>
    public bool NeedsSevenBitB => Isa is QgemmIsa.Avx2Bytes or QgemmIsa.Avx512Bytes;

    private bool ReadsBytes => Isa is QgemmIsa.AvxVnni or QgemmIsa.Avx2Bytes or QgemmIsa.Avx512Bytes;

    public int PadK(int k) => (k + KGroup - 1) / KGroup * KGroup;

    public static QgemmConfig For(QgemmIsa isa) => isa switch
    {
        QgemmIsa.AvxVnni => new QgemmConfig(isa, QgemmMicroKernelVnni.Mr),
        QgemmIsa.Avx2Bytes => new QgemmConfig(isa, QgemmMicroKernelAvx2Bytes.Mr),
        QgemmIsa.Avx512Bytes => new QgemmConfig(isa, QgemmMicroKernelAvx512Bytes.Mr),
        QgemmIsa.Avx512Bw => new QgemmConfig(isa, QgemmMicroKernelAvx512.Mr),
        QgemmIsa.Avx2 => new QgemmConfig(isa, QgemmMicroKernelAvx2.Mr),
        _ => new QgemmConfig(isa, QgemmMicroKernelPortable.Mr),
    };

    public static bool IsSupported(QgemmIsa isa) => isa switch
    {
        QgemmIsa.AvxVnni => AvxVnni.IsSupported,
        QgemmIsa.Avx512Bw or QgemmIsa.Avx512Bytes => Avx512BW.IsSupported,
        QgemmIsa.Avx2 or QgemmIsa.Avx2Bytes => Avx2.IsSupported,
        _ => true,
    };

    /// <summary>Runs the micro-kernel: tile[Mr x Nr] = a-rows (lda bytes apart) · packed panel, over <paramref name="groups"/> K groups.</summary>
    public unsafe void Kernel(byte* a, nint lda, byte* b, int groups, int* tile)
    {
        switch (Isa)
        {
            case QgemmIsa.AvxVnni:
                QgemmMicroKernelVnni.Run(a, lda, b, groups, tile);
                break;
            case QgemmIsa.Avx512Bw:
                QgemmMicroKernelAvx512.Run(a, lda, b, groups, tile);
                break;
            case QgemmIsa.Avx2:
                QgemmMicroKernelAvx2.Run(a, lda, b, groups, tile);
                break;
            case QgemmIsa.Avx2Bytes:
                QgemmMicroKernelAvx2Bytes.Run(a, lda, b, groups, tile);
                break;
            case QgemmIsa.Avx512Bytes:
                QgemmMicroKernelAvx512Bytes.Run(a, lda, b, groups, tile);
                break;
            default:
                QgemmMicroKernelPortable.Run(a, lda, b, groups, tile);
                break;
        }
    }

    /// <summary>Whether <see cref="KernelToFloat"/> can run here (the 256- and 512-bit kernels; the Vector128 one stores its tile).</summary>
    public bool HasFloatTiles => Isa != QgemmIsa.Portable;

    /// <summary>
    /// Runs the 6 x 16 micro-kernel for output rows [row, row + 6) and writes their float results through
    /// <paramref name="panel"/> from the accumulators; only where <see cref="HasFloatTiles"/>.
    /// </summary>
    public unsafe void KernelToFloat(byte* a, nint lda, byte* b, int groups, QgemmFloatPanel* panel, int row, int* rowSums)
    {
        var sink = new QgemmFloatTileSink(panel, row, rowSums);
        if (Isa == QgemmIsa.Avx512Bw)
        {
            QgemmTile6x16x512<QgemmMicroKernelAvx512>.Run(a, lda, b, groups, sink);
        }
        else if (Isa == QgemmIsa.AvxVnni)
        {
            QgemmTile6x16<QgemmMicroKernelVnni>.Run(a, lda, b, groups, sink);
        }
        else if (Isa == QgemmIsa.Avx2Bytes)
        {
            QgemmTile6x16<QgemmMicroKernelAvx2Bytes>.Run(a, lda, b, groups, sink);
        }
        else if (Isa == QgemmIsa.Avx512Bytes)
        {
            QgemmTile6x16x512<QgemmMicroKernelAvx512Bytes>.Run(a, lda, b, groups, sink);
        }
        else
        {
            QgemmTile6x16<QgemmMicroKernelAvx2>.Run(a, lda, b, groups, sink);
        }
    }

    /// <summary>
    /// The config for a constant B whose packed (signed) values all lie within [-64, 64] (7-bit weights): the byte
    /// kernel at this process's width where the best kernel is a widened one (no VNNI), else <see cref="Current"/>.
    /// TESSERA_QGEMM_BYTES=0 keeps the widened kernel (for A/B runs and the tests that compare both).
    /// </summary>
    public static QgemmConfig ForWeights(bool sevenBit) => !sevenBit || !BytesAllowed ? Current : Current.Isa switch
    {
        QgemmIsa.Avx2 => For(QgemmIsa.Avx2Bytes),
        QgemmIsa.Avx512Bw => For(QgemmIsa.Avx512Bytes),
        _ => Current,
    };

    /// <summary>The config for a constant B of <paramref name="count"/> contiguous values (<see cref="SevenBitWeights"/>).</summary>
    public static unsafe QgemmConfig ForWeights(byte* values, long count, bool signed) =>
        ForWeights(BytesAllowed && Current.Isa is QgemmIsa.Avx2 or QgemmIsa.Avx512Bw && SevenBitWeights.Fit(values, count, signed));

    /// <summary>Whether 7-bit weights take the byte kernels: TESSERA_QGEMM_BYTES=0 turns it off; tests set it to compare both.</summary>
    internal static bool BytesAllowed { get; set; } = Environment.GetEnvironmentVariable("TESSERA_QGEMM_BYTES") != "0";

    private static QgemmConfig Detect()
    {
        var best = IsSupported(QgemmIsa.AvxVnni) ? QgemmIsa.AvxVnni
            : IsSupported(QgemmIsa.Avx512Bw) ? QgemmIsa.Avx512Bw
            : IsSupported(QgemmIsa.Avx2) ? QgemmIsa.Avx2
            : QgemmIsa.Portable;
        string? wanted = Environment.GetEnvironmentVariable("TESSERA_QGEMM");
        if (wanted is not null && Enum.TryParse<QgemmIsa>(wanted, ignoreCase: true, out var isa) && isa < best && IsSupported(isa))
        {
            best = isa;
        }

        return For(best);
    }
}
