using System.Text.Json;
using Tessera.Tensors;

namespace Tessera.Serving.Protocol;

/// <summary>
/// Writes a tensor's values as a flat JSON array. Floats use the shortest text that reads back to the same value
/// (so JSON round-trips are exact); non-finite floats, which JSON numbers cannot hold, are written as the strings
/// "NaN", "Infinity" and "-Infinity". FP16 and BF16 values are written as the float they hold.
/// </summary>
internal static class JsonTensorWriter
{
    public static unsafe void WriteData(Utf8JsonWriter writer, Tensor tensor)
    {
        writer.WriteStartArray();
        int n = tensor.Length;
        byte* p = tensor.Pointer;
        switch (tensor.DataType)
        {
            case DataType.Bool: for (int i = 0; i < n; i++) writer.WriteBooleanValue(p[i] != 0); break;
            case DataType.UInt8: for (int i = 0; i < n; i++) writer.WriteNumberValue(p[i]); break;
            case DataType.Int8: for (int i = 0; i < n; i++) writer.WriteNumberValue(((sbyte*)p)[i]); break;
            case DataType.UInt16: for (int i = 0; i < n; i++) writer.WriteNumberValue(((ushort*)p)[i]); break;
            case DataType.Int16: for (int i = 0; i < n; i++) writer.WriteNumberValue(((short*)p)[i]); break;
            case DataType.UInt32: for (int i = 0; i < n; i++) writer.WriteNumberValue(((uint*)p)[i]); break;
            case DataType.Int32: for (int i = 0; i < n; i++) writer.WriteNumberValue(((int*)p)[i]); break;
            case DataType.UInt64: for (int i = 0; i < n; i++) writer.WriteNumberValue(((ulong*)p)[i]); break;
            case DataType.Int64: for (int i = 0; i < n; i++) writer.WriteNumberValue(((long*)p)[i]); break;
            case DataType.Float16: for (int i = 0; i < n; i++) WriteFloat(writer, (float)((Half*)p)[i]); break;
            case DataType.BFloat16: for (int i = 0; i < n; i++) WriteFloat(writer, ((BFloat16*)p)[i].ToSingle()); break;
            case DataType.Float32: for (int i = 0; i < n; i++) WriteFloat(writer, ((float*)p)[i]); break;
            case DataType.Float64:
                for (int i = 0; i < n; i++)
                {
                    double d = ((double*)p)[i];
                    if (double.IsFinite(d)) writer.WriteNumberValue(d);
                    else writer.WriteStringValue(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
                }

                break;
            case DataType.String: foreach (string s in tensor.Strings) writer.WriteStringValue(s); break;
            default: throw new ServingException(500, $"output of type {DataTypes.Name(tensor.DataType)} cannot be written as JSON");
        }

        writer.WriteEndArray();
    }

    private static void WriteFloat(Utf8JsonWriter writer, float f)
    {
        if (float.IsFinite(f)) writer.WriteNumberValue(f);
        else writer.WriteStringValue(float.IsNaN(f) ? "NaN" : f > 0 ? "Infinity" : "-Infinity");
    }
}
