using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Linear;

/// <summary>
/// op(B) (K x N) packed once into micro-kernel panels, for B operands that are constant initializers (weights):
/// packing happens when the kernel is created and every run reuses it. Block (pc, jc) is laid out exactly as an
/// on-the-fly packed B block.
/// </summary>
internal sealed unsafe class SgemmPackedB
{
    private readonly byte[] _storage;
    private readonly float* _data;
    private readonly int _paddedN;

    private SgemmPackedB(SgemmConfig config, int k, int n)
    {
        Config = config;
        K = k;
        N = n;
        _paddedN = (n + config.Nr - 1) / config.Nr * config.Nr;
        long floats = Math.Max(1L, (long)_paddedN * k);
        _storage = GC.AllocateUninitializedArray<byte>(checked((int)(floats * sizeof(float) + 64)), pinned: true);
        byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
        _data = (float*)(((nuint)start + 63) & ~(nuint)63);
    }

    public SgemmConfig Config { get; }

    public int K { get; }

    public int N { get; }

    public static SgemmPackedB Pack(float* b, int ldb, bool trans, int k, int n, SgemmConfig? config = null)
    {
        var packed = new SgemmPackedB(config ?? SgemmConfig.Current, k, n);
        var cfg = packed.Config;
        int panels = packed._paddedN / cfg.Nr;
        for (int pc = 0; pc < k; pc += cfg.Kc)
        {
            int kc = Math.Min(cfg.Kc, k - pc);
            SgemmPacking.PackB(b, ldb, trans, 0, n, pc, kc, cfg.Nr, 0, panels, packed.Block(pc, 0));
        }

        GC.KeepAlive(packed._storage);
        return packed;
    }

    /// <summary>The packed block of depth from <paramref name="pc"/> (a multiple of Kc) and columns from <paramref name="jc"/> (a multiple of Nr).</summary>
    public float* Block(int pc, int jc) => _data + (long)pc * _paddedN + (long)jc * Math.Min(Config.Kc, K - pc);
}
