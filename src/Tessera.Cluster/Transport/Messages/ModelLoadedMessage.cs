namespace Tessera.Cluster.Transport.Messages;

/// <summary>MODEL_LOADED payload: <c>32-byte hash | i64 bytes charged to the memory budget | u16 n | n × string input | u16 m | m × string output</c>.</summary>
public sealed record ModelLoadedMessage(byte[] Hash, long Bytes, string[] Inputs, string[] Outputs)
{
    public WireWriter Write() => new WireWriter().Bytes(Hash).I64(Bytes).Strings(Inputs).Strings(Outputs);

    public static ModelLoadedMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var message = new ModelLoadedMessage(r.Bytes(Protocol.HashBytes).ToArray(), r.I64(), r.Strings(), r.Strings());
        r.End();
        return message;
    }
}
