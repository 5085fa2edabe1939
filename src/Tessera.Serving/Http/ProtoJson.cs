using System.Collections;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Tessera.Serving.Http;

/// <summary>
/// Writes a protobuf message as the JSON Triton's REST API answers with: proto field names, every scalar field
/// (zeros too), 64-bit integers as JSON numbers (not the strings of protobuf's canonical JSON), enums by name.
/// </summary>
internal static class ProtoJson
{
    public static void Write(Utf8JsonWriter writer, IMessage message)
    {
        writer.WriteStartObject();
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            object? value = field.Accessor.GetValue(message);
            if (value is null)
            {
                continue; // an unset message field
            }

            writer.WritePropertyName(field.Name);
            if (field.IsMap)
            {
                writer.WriteStartObject();
                var valueField = field.MessageType.FindFieldByNumber(2);
                foreach (DictionaryEntry entry in (IDictionary)value)
                {
                    writer.WritePropertyName(entry.Key.ToString()!);
                    WriteValue(writer, valueField, entry.Value);
                }

                writer.WriteEndObject();
            }
            else if (field.IsRepeated)
            {
                writer.WriteStartArray();
                foreach (object item in (IEnumerable)value) WriteValue(writer, field, item);
                writer.WriteEndArray();
            }
            else
            {
                WriteValue(writer, field, value);
            }
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, FieldDescriptor field, object? value)
    {
        switch (value)
        {
            case IMessage m: Write(writer, m); break;
            case string s: writer.WriteStringValue(s); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case ByteString bytes: writer.WriteBase64StringValue(bytes.Span); break;
            case Enum e: writer.WriteStringValue(field.EnumType.FindValueByNumber(Convert.ToInt32(e, System.Globalization.CultureInfo.InvariantCulture))?.Name ?? e.ToString()); break;
            case int i: writer.WriteNumberValue(i); break;
            case uint u: writer.WriteNumberValue(u); break;
            case long l: writer.WriteNumberValue(l); break;
            case ulong ul: writer.WriteNumberValue(ul); break;
            case float f: writer.WriteNumberValue(f); break;
            case double d: writer.WriteNumberValue(d); break;
            default: writer.WriteNullValue(); break;
        }
    }
}
