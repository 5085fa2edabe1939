using Tessera.Tensors;

namespace Tessera.Serving.Protocol;

/// <summary>
/// A failure to report to the client as <c>{"error": message}</c> with the given HTTP status; the message is made one
/// line (<see cref="UntrustedText"/>) since it often quotes what the client sent.
/// </summary>
internal sealed class ServingException : Exception
{
    public ServingException(int statusCode, string message, Exception? inner = null)
        : base(UntrustedText.OneLine(message), inner)
    {
        StatusCode = statusCode;
    }

    public int StatusCode { get; }

    public static ServingException BadRequest(string message) => new(400, message);

    public static ServingException NotFound(string message) => new(404, message);
}
