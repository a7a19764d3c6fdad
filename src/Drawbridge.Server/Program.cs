using Drawbridge.Contracts;
using Drawbridge.Server.Agents;
using Drawbridge.Server.Audit;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Jit;
using Drawbridge.Server.Machines;
using Drawbridge.Server.Network;
using Drawbridge.Server.Options;
using Drawbridge.Server.Posture;
using Drawbridge.Server.Storage;
using Drawbridge.Server.Web;
using Microsoft.Extensions.Options;

// appsettings.json ships beside the binary; relative paths in settings (the data directory) stay relative to where it is started.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

var options = builder.Configuration.GetSection(DrawbridgeOptions.Section).Get<DrawbridgeOptions>() ?? new DrawbridgeOptions();
builder.Services.AddOptions<DrawbridgeOptions>().BindConfiguration(DrawbridgeOptions.Section).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<DrawbridgeOptions>, ValidateDrawbridgeOptions>();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<InstallationContext>();
builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, DrawbridgeJson.Wire));

builder.Services.AddDrawbridgeStorage(options);
builder.Services.AddDrawbridgeHttp(options);
builder.Services.AddDrawbridgeAuthentication(options.Oidc);
builder.Services.AddAuthorization();
builder.Services.AddHttpContextAccessor();
builder.Services.AddScoped<CallerPermissions>();
builder.Services.AddSingleton<ArmPaging>();
builder.Services.AddScoped<AuditLog>();
builder.Services.AddAgents();
builder.Services.AddJit();
builder.Services.AddNetwork();
builder.Services.AddWeb();

var app = builder.Build();
app.UseDrawbridgeHttp();
app.UseAuthentication();
app.UseSessionAntiforgery();
app.UseAuthorization();
app.UseRateLimiter();

// Every endpoint is authenticated unless it says AllowAnonymous, and authorized by the action it declares.
var endpoints = app.MapGroup("").RequireAuthorization().AddEndpointFilter<ScopeAuthorizationFilter>();
endpoints.MapAdminEndpoints();
endpoints.MapSessionEndpoints();
if (options.Oidc.WebSignIn)
{
    endpoints.MapOidcSignIn();
}

endpoints.MapTokenEndpoints();
endpoints.MapUserEndpoints();
endpoints.MapRoleAssignmentEndpoints();
endpoints.MapAuditEndpoints();
endpoints.MapMachineEndpoints();
endpoints.MapJitEndpoints();
endpoints.MapAssessmentEndpoints();
endpoints.MapSecurityGroupEndpoints();
endpoints.MapEffectiveAccessEndpoint();
endpoints.MapAgentEndpoints();
endpoints.MapWebEndpoints();
((IEndpointRouteBuilder)app).DataSources.EnsureEveryEndpointDeclaresAnAction();

await app.InitializeDrawbridgeAsync();
await app.RunAsync();

public partial class Program;
