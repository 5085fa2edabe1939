using Google.Protobuf;
using Google.Protobuf.Collections;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Protocol;
using Tessera.Tensors;
using DataType = Tessera.Tensors.DataType;

namespace Tessera.Serving.Grpc;

/// <summary>
/// InferTensorContents, the typed form of tensor data: which repeated field carries each datatype, and the
/// conversions both ways. FP16 and BF16 have no field; they travel as raw contents only.
/// </summary>
internal static class TypedContents
{
    public static Tensor Read(InferTensorContents contents, string name, DataType type, int[] shape)
    {
        int count = ShapeMath.ElementCount(shape);
        switch (type)
        {
            case DataType.Bool: return Tensor.FromArray(Take(contents.BoolContents, count, name, "bool_contents"), shape);
            case DataType.Int8: return Tensor.FromArray(Narrow(contents.IntContents, count, name, "int_contents", v => (sbyte)v, sbyte.MinValue, sbyte.MaxValue), shape);
            case DataType.Int16: return Tensor.FromArray(Narrow(contents.IntContents, count, name, "int_contents", v => (short)v, short.MinValue, short.MaxValue), shape);
            case DataType.Int32: return Tensor.FromArray(Take(contents.IntContents, count, name, "int_contents"), shape);
            case DataType.Int64: return Tensor.FromArray(Take(contents.Int64Contents, count, name, "int64_contents"), shape);
            case DataType.UInt8: return Tensor.FromArray(NarrowUnsigned(contents.UintContents, count, name, v => (byte)v, byte.MaxValue), shape);
            case DataType.UInt16: return Tensor.FromArray(NarrowUnsigned(contents.UintContents, count, name, v => (ushort)v, ushort.MaxValue), shape);
            case DataType.UInt32: return Tensor.FromArray(Take(contents.UintContents, count, name, "uint_contents"), shape);
            case DataType.UInt64: return Tensor.FromArray(Take(contents.Uint64Contents, count, name, "uint64_contents"), shape);
            case DataType.Float32: return Tensor.FromArray(Take(contents.Fp32Contents, count, name, "fp32_contents"), shape);
            case DataType.Float64: return Tensor.FromArray(Take(contents.Fp64Contents, count, name, "fp64_contents"), shape);
            case DataType.String:
                var strings = Take(contents.BytesContents, count, name, "bytes_contents");
                return Tensor.FromStrings(Array.ConvertAll(strings, b => b.ToStringUtf8()), shape);
            default:
                throw ServingException.BadRequest($"input '{name}' is {WireDataTypes.Name(type)}, which has no typed contents; send it in raw_input_contents");
        }
    }

    /// <summary>The output as typed contents, or null for FP16 and BF16, which only raw contents can carry.</summary>
    public static InferTensorContents? Write(Tensor tensor)
    {
        var contents = new InferTensorContents();
        switch (tensor.DataType)
        {
            case DataType.Bool: contents.BoolContents.Add(tensor.ToArray<bool>()); break;
            case DataType.Int8: foreach (sbyte v in tensor.Span<sbyte>()) contents.IntContents.Add(v); break;
            case DataType.Int16: foreach (short v in tensor.Span<short>()) contents.IntContents.Add(v); break;
            case DataType.Int32: contents.IntContents.Add(tensor.ToArray<int>()); break;
            case DataType.Int64: contents.Int64Contents.Add(tensor.ToArray<long>()); break;
            case DataType.UInt8: foreach (byte v in tensor.Span<byte>()) contents.UintContents.Add(v); break;
            case DataType.UInt16: foreach (ushort v in tensor.Span<ushort>()) contents.UintContents.Add(v); break;
            case DataType.UInt32: contents.UintContents.Add(tensor.ToArray<uint>()); break;
            case DataType.UInt64: contents.Uint64Contents.Add(tensor.ToArray<ulong>()); break;
            case DataType.Float32: contents.Fp32Contents.Add(tensor.ToArray<float>()); break;
            case DataType.Float64: contents.Fp64Contents.Add(tensor.ToArray<double>()); break;
            case DataType.String: foreach (string s in tensor.Strings) contents.BytesContents.Add(ByteString.CopyFromUtf8(s)); break;
            default: return null;
        }

        return contents;
    }

    private static T[] Take<T>(RepeatedField<T> values, int count, string name, string field)
    {
        if (values.Count != count)
        {
            throw ServingException.BadRequest($"input '{name}' has {values.Count} values in {field}, but its shape holds {count}");
        }

        var array = new T[count];
        values.CopyTo(array, 0);
        return array;
    }

    private static T[] Narrow<T>(RepeatedField<int> values, int count, string name, string field, Func<int, T> convert, int min, int max)
    {
        var wide = Take(values, count, name, field);
        var array = new T[count];
        for (int i = 0; i < count; i++)
        {
            if (wide[i] < min || wide[i] > max)
            {
                throw ServingException.BadRequest($"input '{name}': value {wide[i]} at element {i} is out of range for its datatype");
            }

            array[i] = convert(wide[i]);
        }

        return array;
    }

    private static T[] NarrowUnsigned<T>(RepeatedField<uint> values, int count, string name, Func<uint, T> convert, uint max)
    {
        var wide = Take(values, count, name, "uint_contents");
        var array = new T[count];
        for (int i = 0; i < count; i++)
        {
            if (wide[i] > max)
            {
                throw ServingException.BadRequest($"input '{name}': value {wide[i]} at element {i} is out of range for its datatype");
            }

            array[i] = convert(wide[i]);
        }

        return array;
    }
}
