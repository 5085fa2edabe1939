namespace Tessera.Serving.Protocol;

/// <summary>One entry of a request's "outputs": which output to return, and whether as binary data.</summary>
internal readonly record struct RequestedOutput(string Name, bool? Binary);
