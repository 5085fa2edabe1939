using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tessera.Serving.Protocol;

/// <summary>Writes the JSON part of an inference response; outputs marked binary get "binary_data_size" instead of "data".</summary>
internal static class InferResponseWriter
{
    /// <summary>Writes the JSON object and returns the number of binary bytes that must follow it.</summary>
    public static long WriteHeader(IBufferWriter<byte> output, string model, string version, string? id, IReadOnlyList<ResponseOutput> outputs)
    {
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteString("model_name"u8, model);
        writer.WriteString("model_version"u8, version);
        if (id is not null)
        {
            writer.WriteString("id"u8, id);
        }

        long binary = 0;
        writer.WriteStartArray("outputs"u8);
        foreach (var o in outputs)
        {
            writer.WriteStartObject();
            writer.WriteString("name"u8, o.Name);
            writer.WriteString("datatype"u8, WireDataTypes.Name(o.Tensor.DataType));
            writer.WriteStartArray("shape"u8);
            foreach (int d in o.Tensor.Shape) writer.WriteNumberValue(d);
            writer.WriteEndArray();
            if (o.Binary)
            {
                long size = BinaryTensorWriter.Size(o.Tensor);
                binary += size;
                writer.WriteStartObject("parameters"u8);
                writer.WriteNumber("binary_data_size"u8, size);
                writer.WriteEndObject();
            }
            else
            {
                writer.WritePropertyName("data"u8);
                JsonTensorWriter.WriteData(writer, o.Tensor);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
        return binary;
    }
}
