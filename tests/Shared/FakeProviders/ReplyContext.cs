using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>Everything a scripted reply needs to play itself onto one request.</summary>
internal sealed class ReplyContext(HttpContext http, IWireFormat wire, bool stream)
{
    public IWireFormat Wire => wire;

    /// <summary>Whether the client asked for a streamed reply.</summary>
    public bool Stream => stream;

    /// <summary>Fires when the client goes away; every wait and write honours it.</summary>
    public CancellationToken RequestAborted => http.RequestAborted;

    public HttpResponse Response => http.Response;

    /// <summary>True once the script itself cut the connection, so that is not mistaken for the client aborting.</summary>
    public bool CutByScript { get; private set; }

    /// <summary>Drops the TCP connection without finishing the response, as a crashed upstream or proxy would.</summary>
    public void CutConnection()
    {
        CutByScript = true;
        http.Abort();
    }

    public Task WriteJsonAsync(int status, JsonNode body) =>
        WireResponse.WriteJsonAsync(http.Response, status, body, http.RequestAborted);
}
