using System.Runtime.InteropServices;

namespace Tessera.Tensors;

/// <summary>Brain floating point: the upper 16 bits of an IEEE float32. Storage and conversion only.</summary>
[StructLayout(LayoutKind.Sequential, Size = 2)]
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    public readonly ushort Bits;

    public BFloat16(ushort bits) => Bits = bits;

    /// <summary>Rounds to nearest even, as ONNX's reference and ONNX Runtime do; NaN stays NaN.</summary>
    public static BFloat16 FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return new BFloat16(0x7FC0);
        }

        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return new BFloat16((ushort)((bits + rounding) >> 16));
    }

    /// <summary>Rounds to nearest even straight from float64 (going through float32 alone could round twice).</summary>
    public static BFloat16 FromDouble(double value)
    {
        float f = (float)value;
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if ((bits & 0xFFFF) == 0x8000 && float.IsFinite(f) && (double)f != value)
        {
            // The float32 rounding made an exact bfloat16 tie that the float64 value is not: round by the true value.
            ushort upper = (ushort)(bits >> 16);
            return new BFloat16(Math.Abs(value) > Math.Abs((double)f) ? (ushort)(upper + 1) : upper);
        }

        return FromSingle(f);
    }

    public float ToSingle() => BitConverter.UInt32BitsToSingle((uint)Bits << 16);

    public static explicit operator float(BFloat16 value) => value.ToSingle();

    public static explicit operator BFloat16(float value) => FromSingle(value);

    public bool Equals(BFloat16 other) => Bits == other.Bits;

    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    public override int GetHashCode() => Bits;

    public override string ToString() => ToSingle().ToString(System.Globalization.CultureInfo.InvariantCulture);
}
