using System.Numerics;
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

    /// <summary>
    /// <see cref="FromSingle(float)"/> of every element, vectorised (bit-identical to it): the cluster narrows whole
    /// activations with it on their way to another process.
    /// </summary>
    public static void FromSingles(ReadOnlySpan<float> source, Span<BFloat16> destination)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException($"{source.Length} elements do not fit in {destination.Length}", nameof(destination));
        }

        var bits = MemoryMarshal.Cast<float, uint>(source);
        var narrow = MemoryMarshal.Cast<BFloat16, ushort>(destination);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var absMask = new Vector<uint>(0x7FFF_FFFF);
            var infinity = new Vector<uint>(0x7F80_0000);
            var bias = new Vector<uint>(0x7FFF);
            var one = Vector<uint>.One;
            var quietNaN = new Vector<uint>(0x7FC0);
            for (; i <= bits.Length - (2 * Vector<uint>.Count); i += 2 * Vector<uint>.Count)
            {
                var low = Round(new Vector<uint>(bits[i..]), absMask, infinity, bias, one, quietNaN);
                var high = Round(new Vector<uint>(bits[(i + Vector<uint>.Count)..]), absMask, infinity, bias, one, quietNaN);
                Vector.Narrow(low, high).CopyTo(narrow[i..]);
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = FromSingle(source[i]);
        }
    }

    /// <summary><see cref="ToSingle()"/> of every element, vectorised.</summary>
    public static void ToSingles(ReadOnlySpan<BFloat16> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException($"{source.Length} elements do not fit in {destination.Length}", nameof(destination));
        }

        var narrow = MemoryMarshal.Cast<BFloat16, ushort>(source);
        var bits = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= narrow.Length - Vector<ushort>.Count; i += Vector<ushort>.Count)
            {
                Vector.Widen(new Vector<ushort>(narrow[i..]), out var low, out var high);
                (low << 16).CopyTo(bits[i..]);
                (high << 16).CopyTo(bits[(i + Vector<uint>.Count)..]);
            }
        }

        for (; i < narrow.Length; i++)
        {
            bits[i] = (uint)narrow[i] << 16;
        }
    }

    /// <summary>The upper 16 bits rounded to nearest even, or the quiet NaN, in the low half of each element.</summary>
    private static Vector<uint> Round(Vector<uint> bits, Vector<uint> absMask, Vector<uint> infinity, Vector<uint> bias, Vector<uint> one, Vector<uint> quietNaN)
    {
        var rounded = (bits + bias + ((bits >> 16) & one)) >> 16;
        var isNaN = Vector.GreaterThan(bits & absMask, infinity);
        return Vector.ConditionalSelect(isNaN, quietNaN, rounded);
    }

    public static explicit operator float(BFloat16 value) => value.ToSingle();

    public static explicit operator BFloat16(float value) => FromSingle(value);

    public bool Equals(BFloat16 other) => Bits == other.Bits;

    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    public override int GetHashCode() => Bits;

    public override string ToString() => ToSingle().ToString(System.Globalization.CultureInfo.InvariantCulture);
}
