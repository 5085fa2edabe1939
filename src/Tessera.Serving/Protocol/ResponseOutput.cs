using Tessera.Tensors;

namespace Tessera.Serving.Protocol;

/// <summary>One output to send back, and whether it travels as binary data after the JSON.</summary>
internal readonly record struct ResponseOutput(string Name, Tensor Tensor, bool Binary);
