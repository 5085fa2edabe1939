using Google.Protobuf;
using Tessera.Onnx.Io;
using Tessera.Onnx.Protobuf;

namespace Tessera.Fuzz.Targets;

/// <summary>
/// The ONNX model reader: a ModelProto into the graph IR (<see cref="ModelReader.Parse"/>), initializers and attribute
/// tensors decoded, external data resolved in <see cref="ExternalDataFolder"/>, nested graphs, huge declared dims.
/// </summary>
internal sealed class OnnxModelTarget : FuzzTarget
{
    public override string Name => "onnx";

    public override string Description => "ONNX ModelProto files (ModelReader: graph, nodes, attributes, initializers, external data)";

    public override void Parse(ReadOnlySpan<byte> input) => ModelReader.Parse(input, ExternalDataFolder.Path);

    public override bool IsRefusal(Exception e) => e is OnnxFormatException;

    public override IEnumerable<byte[]> Seeds(SeedFiles cache)
    {
        var models = cache.Read("onnx-node-suite", "model.onnx", 150, 64 << 10).ToList();
        foreach (byte[] model in models)
        {
            yield return model;
        }

        if (models.Count > 0)
        {
            // The first model with an initializer kept in the external data file.
            var proto = ModelProto.Parser.ParseFrom(models[0]);
            proto.Graph.Initializer.Add(ExternalDataFolder.External("external_w", offset: 128, length: 32));
            yield return proto.ToByteArray();
        }
    }
}
