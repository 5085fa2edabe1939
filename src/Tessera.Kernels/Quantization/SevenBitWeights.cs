namespace Tessera.Kernels.Quantization;

/// <summary>
/// Whether a constant B can take the vpmaddubsw byte kernels (<see cref="QgemmMicroKernelAvx2Bytes"/>): every value
/// as packed (int8 as is, uint8 shifted by -128) within [-64, 64], so a pair of u8 · s8 products stays within int16
/// (2 · 255 · 64 = 32640). ONNX Runtime's reduce_range weights ([-64, 63] symmetric) fit; 8-bit ones do not.
/// </summary>
internal static unsafe class SevenBitWeights
{
    public const int Limit = 64;

    /// <summary>Checks <paramref name="count"/> contiguous values once, when the weight is packed.</summary>
    public static bool Fit(byte* values, long count, bool signed)
    {
        byte flip = signed ? (byte)0 : (byte)0x80;
        for (long i = 0; i < count; i++)
        {
            int v = (sbyte)(values[i] ^ flip);
            if (v < -Limit || v > Limit) return false;
        }

        return true;
    }
}
