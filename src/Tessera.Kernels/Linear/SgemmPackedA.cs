using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Linear;

/// <summary>
/// op(A) (M x K, scaled by alpha) packed once into micro-kernel slivers, for A operands that are constant
/// (e.g. convolution weights). Block (ic, pc) is laid out exactly as an on-the-fly packed A block.
/// </summary>
internal sealed unsafe class SgemmPackedA
{
    private readonly byte[] _storage;
    private readonly float* _data;
    private readonly int _paddedM;

    private SgemmPackedA(SgemmConfig config, int m, int k)
    {
        Config = config;
        M = m;
        K = k;
        _paddedM = (m + config.Mr - 1) / config.Mr * config.Mr;
        long floats = Math.Max(1L, (long)_paddedM * k);
        _storage = GC.AllocateUninitializedArray<byte>(checked((int)(floats * sizeof(float) + 64)), pinned: true);
        byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
        _data = (float*)(((nuint)start + 63) & ~(nuint)63);
    }

    public SgemmConfig Config { get; }

    public int M { get; }

    public int K { get; }

    public static SgemmPackedA Pack(float* a, int lda, bool trans, int m, int k, float alpha, SgemmConfig? config = null)
    {
        var packed = new SgemmPackedA(config ?? SgemmConfig.Current, m, k);
        var cfg = packed.Config;
        for (int pc = 0; pc < k; pc += cfg.Kc)
        {
            int kc = Math.Min(cfg.Kc, k - pc);
            SgemmPacking.PackA(a, lda, trans, 0, m, pc, kc, alpha, cfg.Mr, packed.Block(0, pc));
        }

        GC.KeepAlive(packed._storage);
        return packed;
    }

    /// <summary>The packed block of rows from <paramref name="ic"/> (a multiple of Mr) and depth from <paramref name="pc"/> (a multiple of Kc).</summary>
    public float* Block(int ic, int pc) => _data + (long)pc * _paddedM + (long)ic * Math.Min(Config.Kc, K - pc);
}
