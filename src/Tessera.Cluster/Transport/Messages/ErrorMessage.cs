namespace Tessera.Cluster.Transport.Messages;

/// <summary>ERROR payload: <c>u16 code (ClusterErrorCode) | string message</c> (strings are u16 byte length + UTF-8).</summary>
public sealed record ErrorMessage(ClusterErrorCode Code, string Message)
{
    public WireWriter Write() => new WireWriter().U16((ushort)Code).String(Message.Length > 4000 ? Message[..4000] : Message);

    public static ErrorMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var code = (ClusterErrorCode)r.U16();
        string message = r.String();
        r.End();
        return new ErrorMessage(Enum.IsDefined(code) ? code : ClusterErrorCode.Internal, message);
    }

    public ClusterException ToException(string origin) => new(Code, $"{origin}: {Message}");
}
