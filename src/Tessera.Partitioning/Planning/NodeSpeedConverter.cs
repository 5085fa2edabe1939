using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tessera.Partitioning.Planning;

/// <summary>
/// A node's "speed" in a cluster file: a number, or "measure" (read as NaN: the cluster measures the worker and fills
/// it in before planning, see <see cref="ClusterNode.MeasureSpeed"/>).
/// </summary>
internal sealed class NodeSpeedConverter : JsonConverter<double>
{
    public const string Measure = "measure";

    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString() == Measure ? double.NaN : throw new JsonException($"speed must be a number or \"{Measure}\"");
        }

        return reader.GetDouble();
    }

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        if (double.IsNaN(value))
        {
            writer.WriteStringValue(Measure);
        }
        else
        {
            writer.WriteNumberValue(value);
        }
    }
}
