using System.Text;
using System.Text.RegularExpressions;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Errors;
using AspireLlm.Api.Jobs;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Retrieval;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.Collections;

/// <summary>
/// <c>POST /v1/collections/{id}/documents</c>: JSON (<c>id</c>, <c>title</c>, <c>text</c>, <c>content_type</c>) or
/// multipart with a <c>file</c> (and optional <c>id</c> and <c>title</c> fields), plain text, Markdown or HTML,
/// within the body limit. The text is stored (sealed) as the document's next version and an <c>index</c> job
/// is accepted for it: 202 with the job to poll. Uploading an existing id replaces the document when its job runs.
/// </summary>
internal static partial class DocumentUploads
{
    public static async Task<Results<Accepted<IndexAccepted>, ProblemHttpResult>> UploadAsync(
        string id, HttpContext context, CollectionStore store, JobStore jobs, JobNotifications notifications, IOptions<JobLimitsOptions> limits,
        IOptions<ApiOptions> apiOptions, RetrievalOptions options, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (await CollectionsEndpoints.FindAsync(id, context, store, cancellationToken) is not { } collection)
        {
            return CollectionsEndpoints.NotFound(id);
        }

        var (upload, error) = context.Request.HasFormContentType
            ? await ReadMultipartAsync(context, apiOptions.Value.MaxRequestBodyBytes, cancellationToken)
            : await CollectionsEndpoints.ReadAsync<DocumentRequest>(context, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var errors = new Dictionary<string, string[]>();
        var documentId = upload!.Id ?? "doc_" + Guid.NewGuid().ToString("N");
        if (!IdPattern().IsMatch(documentId))
        {
            errors["id"] = ["1 to 128 letters, digits, '.', '_', ':' or '-'."];
        }

        var contentType = upload.ContentType ?? Chunker.PlainText;
        if (!Chunker.ContentTypes.Contains(contentType))
        {
            errors["content_type"] = [$"Must be one of: {string.Join(", ", Chunker.ContentTypes)}."];
        }

        if (upload.Title is { Length: > 500 })
        {
            errors["title"] = ["At most 500 characters."];
        }

        var text = string.IsNullOrWhiteSpace(upload.Text) || errors.ContainsKey("content_type") ? "" : Chunker.ExtractText(upload.Text, contentType);
        if (text.Trim().Length == 0)
        {
            errors["text"] = ["Required, with some text in it."];
        }
        else if (text.Length > options.MaxDocumentCharacters)
        {
            errors["text"] = [$"At most {options.MaxDocumentCharacters} characters of text."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var jobId = Guid.CreateVersion7();
        var version = await store.PutDocumentAsync(collection.Id, documentId, upload.Title, contentType, text, jobId, timeProvider.GetUtcNow(), cancellationToken);
        if (await CollectionsEndpoints.SubmitIndexJobAsync(
                context, jobs, notifications, limits.Value, timeProvider, jobId, new IndexInput(collection.Id, documentId), cancellationToken) is { } refused)
        {
            await store.MarkDocumentFailedAsync(collection.Id, documentId, version, timeProvider.GetUtcNow(), CancellationToken.None);
            return refused;
        }

        return TypedResults.Accepted($"/v1/jobs/{jobId}", new IndexAccepted("collection.document", collection.Id, documentId, version, jobId, JobStatus.Pending));
    }

    private static async Task<(DocumentRequest? Upload, ProblemHttpResult? Error)> ReadMultipartAsync(HttpContext context, long limit, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength is > 0 and var length && length > limit)
        {
            return (null, Problems.TooLarge($"The body exceeds the limit of {limit} bytes."));
        }

        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(new Microsoft.AspNetCore.Http.Features.FormOptions { MultipartBodyLengthLimit = limit }, cancellationToken);
        }
        catch (Exception exception) when (exception is InvalidDataException or IOException or BadHttpRequestException)
        {
            return (null, Problems.Validation(new() { ["$"] = ["The multipart body could not be read (or exceeds the size limit)."] }));
        }

        if (form.Keys.FirstOrDefault(key => key is not ("id" or "title" or "content_type")) is { } unknown)
        {
            return (null, Problems.Validation(new() { [unknown] = ["Unknown field; the parts are 'file', 'id', 'title' and 'content_type'."] }));
        }

        if (form.Files is not [{ } file] || file.Name != "file")
        {
            return (null, Problems.Validation(new() { ["file"] = ["Exactly one part named 'file' is required."] }));
        }

        using var buffer = new MemoryStream();
        await file.CopyToAsync(buffer, cancellationToken);
        var bytes = buffer.ToArray();
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return (null, Problems.Validation(new() { ["file"] = ["The file must be UTF-8 text (plain text, Markdown or HTML)."] }));
        }

        var contentType = form["content_type"].FirstOrDefault() ?? TypeOf(file);
        return (new DocumentRequest(form["id"].FirstOrDefault(), form["title"].FirstOrDefault() ?? Path.GetFileNameWithoutExtension(file.FileName),
            Encoding.UTF8.GetString(bytes).TrimStart('\uFEFF'), contentType), null);
    }

    /// <summary>The part's declared type when it is one we read, else by the file's extension.</summary>
    private static string TypeOf(IFormFile file) =>
        file.ContentType?.Split(';')[0].Trim() is { } declared && Chunker.ContentTypes.Contains(declared) ? declared
        : Path.GetExtension(file.FileName).ToLowerInvariant() switch
        {
            ".md" or ".markdown" => Chunker.Markdown,
            ".html" or ".htm" => Chunker.Html,
            _ => Chunker.PlainText,
        };

    [GeneratedRegex(@"^[A-Za-z0-9._:\-]{1,128}$")]
    private static partial Regex IdPattern();
}
