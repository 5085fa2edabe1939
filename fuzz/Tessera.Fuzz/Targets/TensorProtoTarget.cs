using Tessera.Tensors.Formats;

namespace Tessera.Fuzz.Targets;

/// <summary>
/// TensorProto (.pb) files, as `tessera run --input NAME=FILE.pb` and `tessera onnx-test` read them: typed fields, raw
/// data, strings and external data (resolved in a folder holding one small data file).
/// </summary>
internal sealed class TensorProtoTarget : FuzzTarget
{
    public override string Name => "tensorproto";

    public override string Description => "TensorProto .pb files (TensorProtoFormat, ExternalData)";

    public override void Parse(ReadOnlySpan<byte> input) => TensorProtoFormat.Parse(input, ExternalDataFolder.Path, "input.pb");

    /// <summary>The reader's errors, as `tessera run` prints them: a missing external data file is a FileNotFoundException.</summary>
    public override bool IsRefusal(Exception e) => e is InvalidDataException or NotSupportedException or FileNotFoundException;

    public override IEnumerable<byte[]> Seeds(SeedFiles cache) =>
        cache.Read("onnx-node-suite", "*.pb", 200, 64 << 10).Concat(ExternalDataFolder.TensorSeeds());
}
