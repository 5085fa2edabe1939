using System.Text;
using Google.Protobuf;
using Tessera.Onnx.Protobuf;

namespace Tessera.Tensors.Formats;

/// <summary>Converts between <see cref="Tensor"/> and ONNX TensorProto (inline, typed fields, or external data).</summary>
public static class TensorProtoFormat
{
    /// <summary>Reads a serialized TensorProto file (.pb), as the ONNX backend test data stores inputs and outputs.</summary>
    public static Tensor ReadFile(string path) => Parse(File.ReadAllBytes(path), Path.GetDirectoryName(Path.GetFullPath(path)), path);

    /// <summary>Decodes a serialized TensorProto; <paramref name="displayName"/> names it in errors.</summary>
    public static Tensor Parse(ReadOnlySpan<byte> bytes, string? baseDirectory, string displayName)
    {
        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{displayName} is not a valid TensorProto: {e.Message}");
        }

        return ToTensor(proto, baseDirectory);
    }

    public static void WriteFile(string path, Tensor tensor, string name = "")
    {
        var proto = FromTensor(tensor, name);
        File.WriteAllBytes(path, proto.ToByteArray());
    }

    /// <summary>Decodes a TensorProto; <paramref name="baseDirectory"/> resolves external data locations.</summary>
    public static Tensor ToTensor(TensorProto proto, string? baseDirectory)
    {
        var type = (DataType)proto.DataType;
        if (!DataTypes.IsSupported(type))
        {
            throw new NotSupportedException($"tensor '{NameOf(proto)}' has data type {type}, which Tessera does not support");
        }

        var shape = new int[proto.Dims.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            long d = proto.Dims[i];
            if (d < 0 || d > int.MaxValue)
            {
                throw new InvalidDataException($"tensor '{NameOf(proto)}' has invalid dimension {d}");
            }

            shape[i] = (int)d;
        }

        int count;
        try
        {
            count = ShapeMath.ElementCount(shape);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"tensor '{NameOf(proto)}': {e.Message}");
        }

        // The dims may declare gigabytes: what the message holds is checked against them before anything is allocated.
        if (type == DataType.String)
        {
            if (proto.StringData.Count != count)
            {
                throw new InvalidDataException($"tensor '{NameOf(proto)}' has {proto.StringData.Count} strings for shape {ShapeMath.Format(shape)}");
            }

            var tensor = Tensor.AllocateZeroed(type, shape);

            for (int i = 0; i < tensor.Length; i++)
            {
                tensor.Strings[i] = proto.StringData[i].ToStringUtf8();
            }

            return tensor;
        }

        long byteLength = (long)count * DataTypes.SizeOf(type);
        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
        {
            return ExternalData.Read(proto, baseDirectory, type, shape, byteLength);
        }

        bool raw = !proto.RawData.IsEmpty || byteLength == 0;
        CheckLength(proto, raw ? proto.RawData.Length : TypedCount(proto, type), raw ? byteLength : count);
        var result = Tensor.Allocate(type, shape);
        if (raw)
        {
            proto.RawData.Span.CopyTo(result.Bytes);
        }
        else
        {
            ReadTypedFields(proto, result);
        }

        return result;
    }

    /// <summary>How many values the typed field that carries <paramref name="type"/> holds.</summary>
    private static int TypedCount(TensorProto proto, DataType type) => type switch
    {
        DataType.Float32 => proto.FloatData.Count,
        DataType.Float64 => proto.DoubleData.Count,
        DataType.Int64 => proto.Int64Data.Count,
        DataType.UInt64 or DataType.UInt32 => proto.Uint64Data.Count,
        // int32, int16, int8, uint16, uint8, bool, float16 and bfloat16 (as bit patterns) live in int32_data.
        _ => proto.Int32Data.Count,
    };

    private static void ReadTypedFields(TensorProto proto, Tensor result)
    {
        switch (result.DataType)
        {
            case DataType.Float32:
                for (int i = 0; i < result.Length; i++) result.Span<float>()[i] = proto.FloatData[i];
                break;
            case DataType.Float64:
                for (int i = 0; i < result.Length; i++) result.Span<double>()[i] = proto.DoubleData[i];
                break;
            case DataType.Int64:
                for (int i = 0; i < result.Length; i++) result.Span<long>()[i] = proto.Int64Data[i];
                break;
            case DataType.UInt64:
            case DataType.UInt32:
                for (int i = 0; i < result.Length; i++) WriteElement(result, i, unchecked((long)proto.Uint64Data[i]));
                break;
            default:
                for (int i = 0; i < result.Length; i++) WriteElement(result, i, proto.Int32Data[i]);
                break;
        }
    }

    private static void WriteElement(Tensor t, int i, long bits)
    {
        switch (t.DataType)
        {
            case DataType.Int32: t.Span<int>()[i] = (int)bits; break;
            case DataType.Int16: t.Span<short>()[i] = (short)bits; break;
            case DataType.Int8: t.Span<sbyte>()[i] = (sbyte)bits; break;
            case DataType.UInt16: t.Span<ushort>()[i] = (ushort)bits; break;
            case DataType.UInt8: t.Span<byte>()[i] = (byte)bits; break;
            case DataType.Bool: t.Span<byte>()[i] = bits != 0 ? (byte)1 : (byte)0; break;
            case DataType.Float16: t.Span<Half>()[i] = BitConverter.UInt16BitsToHalf((ushort)bits); break;
            case DataType.BFloat16: t.Span<BFloat16>()[i] = new BFloat16((ushort)bits); break;
            case DataType.UInt32: t.Span<uint>()[i] = (uint)bits; break;
            case DataType.UInt64: t.Span<ulong>()[i] = (ulong)bits; break;
            default: throw new NotSupportedException($"cannot decode {DataTypes.Name(t.DataType)} from integer fields");
        }
    }

    /// <summary>The tensor's name as errors quote it: one line, whatever the file holds.</summary>
    internal static string NameOf(TensorProto proto) => UntrustedText.OneLine(proto.Name, 200);

    private static void CheckLength(TensorProto proto, long actual, long expected)
    {
        if (actual != expected)
        {
            throw new InvalidDataException($"tensor '{NameOf(proto)}' holds {actual} values where its shape needs {expected}");
        }
    }

    /// <summary>Encodes a tensor with raw_data (strings in string_data).</summary>
    public static TensorProto FromTensor(Tensor tensor, string name = "")
    {
        var proto = new TensorProto { Name = name, DataType = (int)tensor.DataType };
        foreach (int d in tensor.Shape)
        {
            proto.Dims.Add(d);
        }

        if (tensor.DataType == DataType.String)
        {
            foreach (string s in tensor.Strings)
            {
                proto.StringData.Add(ByteString.CopyFrom(s, Encoding.UTF8));
            }
        }
        else
        {
            proto.RawData = ByteString.CopyFrom(tensor.Bytes);
        }

        return proto;
    }
}
