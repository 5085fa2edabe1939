using System.Buffers.Binary;
using System.Text;
using Tessera.Tensors;

namespace Tessera.Cluster.Transport;

/// <summary>
/// The start of a Tensor frame's payload (little-endian), followed by exactly <c>byte length</c> raw bytes:
/// <c>u16 name length | u8 dtype (ONNX numbering) | u8 wire dtype | u8 rank | name (UTF-8) | rank × i64 dims |
/// u64 byte length</c>. The wire dtype is the type of the elements as sent: the dtype itself, or float16 or bfloat16
/// for a float32 tensor narrowed on the way (<see cref="WireEncoding"/>); the byte length counts elements of it.
/// </summary>
public readonly record struct TensorMeta(string Name, DataType DataType, int[] Shape, long ByteLength, DataType WireType)
{
    public const int PrefixSize = 5;
    public const int MaxNameBytes = 4096;
    public const int MaxRank = 32;

    public int Size => PrefixSize + Encoding.UTF8.GetByteCount(Name) + (8 * Shape.Length) + 8;

    /// <summary>Total meta size from the 4-byte prefix, checking the limits first.</summary>
    public static int SizeFromPrefix(ReadOnlySpan<byte> prefix)
    {
        int nameBytes = BinaryPrimitives.ReadUInt16LittleEndian(prefix);
        int rank = prefix[4];
        if (nameBytes > MaxNameBytes || rank > MaxRank)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"tensor header with a {nameBytes}-byte name and rank {rank} exceeds the limits ({MaxNameBytes}, {MaxRank})");
        }

        return PrefixSize + nameBytes + (8 * rank) + 8;
    }

    internal WireEncoding WireEncoding => new(DataType, WireType);

    /// <summary>Bytes the receiver's tensor holds (the byte length counts them as sent).</summary>
    public long TensorBytes => WireEncoding.TensorBytes(ByteLength);

    public static TensorMeta For(string name, Tensor tensor, WireDataType wire = WireDataType.Float32)
    {
        if (tensor.DataType == DataType.String)
        {
            throw new ClusterException(ClusterErrorCode.BadRequest, $"tensor '{name}' holds strings, which cannot cross the network");
        }

        var encoding = WireEncoding.For(tensor.DataType, wire);
        return new TensorMeta(name, tensor.DataType, tensor.Shape, encoding.WireBytes(tensor.ByteLength), encoding.WireType);
    }

    public void Write(Span<byte> destination)
    {
        int nameBytes = Encoding.UTF8.GetByteCount(Name);
        if (nameBytes > MaxNameBytes || Shape.Length > MaxRank)
        {
            throw new ClusterException(ClusterErrorCode.BadRequest, $"tensor '{Name}' has a name or rank beyond the wire limits ({MaxNameBytes} bytes, rank {MaxRank})");
        }

        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)nameBytes);
        destination[2] = (byte)DataType;
        destination[3] = (byte)WireType;
        destination[4] = (byte)Shape.Length;
        int at = PrefixSize + Encoding.UTF8.GetBytes(Name, destination[PrefixSize..]);
        foreach (int d in Shape)
        {
            BinaryPrimitives.WriteInt64LittleEndian(destination[at..], d);
            at += 8;
        }

        BinaryPrimitives.WriteUInt64LittleEndian(destination[at..], (ulong)ByteLength);
    }

    /// <summary>
    /// Parses and validates the meta: a known numeric dtype, a wire dtype it may travel as, non-negative dims, and a
    /// byte length that matches them.
    /// </summary>
    public static TensorMeta Read(ReadOnlySpan<byte> source)
    {
        var reader = new WireReader(source);
        int nameBytes = reader.U16();
        var dataType = (DataType)reader.U8();
        var wireType = (DataType)reader.U8();
        int rank = reader.U8();
        string name;
        try
        {
            name = new UTF8Encoding(false, true).GetString(reader.Bytes(nameBytes));
        }
        catch (DecoderFallbackException)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, "a tensor name is not valid UTF-8");
        }

        int elementSize = Enum.IsDefined(dataType) && dataType != DataType.String ? DataTypes.SizeOf(dataType) : 0;
        if (elementSize == 0)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"tensor '{name}' has unsupported data type {(int)dataType}");
        }

        if (!WireEncoding.IsValid(dataType, wireType))
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"tensor '{name}' of {DataTypes.Name(dataType)} cannot travel as wire data type {(int)wireType}");
        }

        int wireElementSize = DataTypes.SizeOf(wireType);

        var shape = new int[rank];
        long elements = 1;
        for (int i = 0; i < rank; i++)
        {
            long d = reader.I64();
            if (d < 0 || d > int.MaxValue)
            {
                throw new ClusterException(ClusterErrorCode.Malformed, $"tensor '{name}' has dimension {d}");
            }

            shape[i] = (int)d;
            elements = elements * d;
            if (elements > int.MaxValue)
            {
                throw new ClusterException(ClusterErrorCode.Malformed, $"tensor '{name}' has more than {int.MaxValue} elements");
            }
        }

        long byteLength = (long)reader.U64();
        reader.End();
        if (byteLength != elements * wireElementSize)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"tensor '{name}' announces {byteLength} bytes but its shape and wire type need {elements * wireElementSize}");
        }

        return new TensorMeta(name, dataType, shape, byteLength, wireType);
    }
}
