using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Tessera.Tensors;

namespace Tessera.Cluster.Transport;

/// <summary>
/// How one tensor's elements travel: as they are (<see cref="WireType"/> = <see cref="DataType"/>), or float32
/// narrowed to float16 or bfloat16 (round to nearest even; NaN stays NaN; float16 overflows to infinity as NumPy's
/// <c>astype</c> does) and widened back on receipt, so the receiver's tensor is float32 again. Both conversions are
/// vectorised: float16 by <see cref="TensorPrimitives"/> (as the engine's float16 kernels convert), bfloat16 by
/// <see cref="BFloat16.FromSingles"/>.
/// </summary>
internal readonly record struct WireEncoding(DataType DataType, DataType WireType)
{
    /// <summary>Bytes a narrowed element takes on the wire.</summary>
    private const int NarrowBytes = 2;

    public bool IsNarrowed => WireType != DataType;

    /// <summary>The encoding <paramref name="wire"/> gives a tensor of <paramref name="dataType"/>: only float32 is narrowed.</summary>
    public static WireEncoding For(DataType dataType, WireDataType wire) =>
        new(dataType, dataType == DataType.Float32 && wire != WireDataType.Float32 ? (DataType)wire : dataType);

    /// <summary>Whether a peer may send elements of <paramref name="wireType"/> for a tensor of <paramref name="dataType"/>.</summary>
    public static bool IsValid(DataType dataType, DataType wireType) =>
        wireType == dataType || (dataType == DataType.Float32 && wireType is DataType.Float16 or DataType.BFloat16);

    /// <summary>Bytes on the wire for a tensor of <paramref name="tensorBytes"/>.</summary>
    public long WireBytes(long tensorBytes) => IsNarrowed ? tensorBytes / sizeof(float) * NarrowBytes : tensorBytes;

    /// <summary>Tensor bytes a piece of <paramref name="wireBytes"/> on the wire fills.</summary>
    public long TensorBytes(long wireBytes) => IsNarrowed ? wireBytes / NarrowBytes * sizeof(float) : wireBytes;

    /// <summary>Writes <paramref name="tensor"/> (tensor bytes) into <paramref name="wire"/> (exactly its wire bytes).</summary>
    public void Encode(ReadOnlySpan<byte> tensor, Span<byte> wire)
    {
        if (!IsNarrowed)
        {
            tensor.CopyTo(wire);
            return;
        }

        var source = MemoryMarshal.Cast<byte, float>(tensor);
        if (WireType == DataType.Float16)
        {
            TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(wire));
        }
        else
        {
            BFloat16.FromSingles(source, MemoryMarshal.Cast<byte, BFloat16>(wire));
        }
    }

    /// <summary>Fills <paramref name="tensor"/> (tensor bytes) from <paramref name="wire"/> (exactly its wire bytes).</summary>
    public void Decode(ReadOnlySpan<byte> wire, Span<byte> tensor)
    {
        if (!IsNarrowed)
        {
            wire.CopyTo(tensor);
            return;
        }

        var destination = MemoryMarshal.Cast<byte, float>(tensor);
        if (WireType == DataType.Float16)
        {
            TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(wire), destination);
        }
        else
        {
            BFloat16.ToSingles(MemoryMarshal.Cast<byte, BFloat16>(wire), destination);
        }
    }
}
