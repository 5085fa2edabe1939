using System.Text.Json;
using Tessera.Cli.Common;
using Tessera.Onnx.Graph;
using Tessera.Serving.Protocol;
using Tessera.Tensors;

namespace Tessera.Cli.LoadGen;

/// <summary>The parts of a KServe v2 model metadata response (GET /v2/models/{name}) that loadgen needs.</summary>
internal sealed record ModelMetadata(string Name, IReadOnlyList<ValueInfo> Inputs, IReadOnlyList<string> Outputs)
{
    /// <summary>Parses the response; a -1 dimension becomes a symbolic one named "-1", which --shape must fix.</summary>
    public static ModelMetadata Parse(string json, string model)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            string name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : model;
            var inputs = new List<ValueInfo>();
            foreach (var input in Array(root, "inputs"))
            {
                string inputName = input.GetProperty("name").GetString() ?? throw new FormatException("an input has no name");
                string datatype = input.GetProperty("datatype").GetString() ?? "";
                if (!WireDataTypes.TryParse(datatype, out var type))
                {
                    throw new FormatException($"input '{inputName}' has the unknown datatype '{datatype}'");
                }

                var shape = input.GetProperty("shape").EnumerateArray()
                    .Select(d => d.GetInt64() is var v && v >= 0 ? Dimension.Known(v) : Dimension.Named("-1")).ToArray();
                inputs.Add(new ValueInfo { Name = inputName, ElementType = type, Shape = shape });
            }

            var outputs = root.TryGetProperty("outputs", out _) ? Array(root, "outputs").Select(o => o.GetProperty("name").GetString() ?? "").ToList() : [];
            return new ModelMetadata(name, inputs, outputs);
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            throw new CliException($"the metadata of model '{model}' is not KServe v2 model metadata: {e.Message}");
        }
    }

    private static JsonElement.ArrayEnumerator Array(JsonElement root, string property) =>
        root.TryGetProperty(property, out var a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray()
            : throw new FormatException($"it has no \"{property}\" array");

    public DataType TypeOf(string input) => Inputs.First(i => i.Name == input).ElementType;
}
