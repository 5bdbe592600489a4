import * as alertsmanagement from "@pulumi/azure-native/alertsmanagement";
import * as authorization from "@pulumi/azure-native/authorization";
import * as dashboard from "@pulumi/azure-native/dashboard";
import * as monitor from "@pulumi/azure-native/monitor";
import * as pulumi from "@pulumi/pulumi";
import { azurePrometheusRules, RuleGroup } from "../monitoring/rules";
import { GRAFANA_WORKSPACE, roleDefinitionId, ROLES, stableSuffix, uniqueName } from "./names";

export interface ManagedPrometheusArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: string;
  /** The AKS cluster whose metrics add-on (`azureMonitorProfile.metrics`) sends the metrics. */
  readonly clusterId: pulumi.Input<string>;
  readonly clusterName: pulumi.Input<string>;
  /** The rules, as infra/monitoring/rules.ts renders them; one Azure rule group each. */
  readonly ruleGroups: readonly RuleGroup[];
  /** Resource id of an action group the alerts notify. @default no action group: the alerts
   * fire in Azure Monitor and notify nobody */
  readonly actionGroupId?: string;
  /** Also create an Azure Managed Grafana that reads the workspace. @default false */
  readonly grafana?: boolean;
  readonly tags: Record<string, string>;
}

/** Built-in role: read the metrics of an Azure Monitor workspace (granted to Grafana). */
export const MONITORING_DATA_READER_ROLE = ROLES.monitoringDataReader;

/** The Prometheus metrics stream of a data collection rule. */
export const PROMETHEUS_STREAM = "Microsoft-PrometheusMetrics";

/** Seconds between two evaluations of a rule group (ISO 8601). */
export const RULE_GROUP_INTERVAL = "PT1M";

/**
 * AKS managed Prometheus: an Azure Monitor workspace that stores the cluster's metrics, the data
 * collection endpoint, rule and association that route the metrics add-on's scrapes into it (the
 * resources Azure's own onboarding creates), the platform's rules as Prometheus rule groups
 * evaluated against the workspace for this cluster, and optionally an Azure Managed Grafana with
 * read access to the workspace. The cluster itself enables the add-on (Cluster's
 * `managedPrometheus`); the add-on's ama-metrics pods scrape the `azmonitoring.coreos.com`
 * PodMonitor of the app.
 */
export class ManagedPrometheus extends pulumi.ComponentResource {
  readonly workspace: monitor.AzureMonitorWorkspace;
  readonly dataCollectionEndpoint: monitor.DataCollectionEndpoint;
  readonly dataCollectionRule: monitor.DataCollectionRule;
  readonly association: monitor.DataCollectionRuleAssociation;
  readonly ruleGroups: alertsmanagement.PrometheusRuleGroup[];
  readonly grafana?: dashboard.Grafana;
  /** The workspace's PromQL endpoint (for Grafana, or any Prometheus API client with Entra ID). */
  readonly prometheusQueryEndpoint: pulumi.Output<string>;
  /** The Grafana URL, or "" without Grafana. */
  readonly grafanaEndpoint: pulumi.Output<string>;

  constructor(name: string, args: ManagedPrometheusArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:azure:ManagedPrometheus", name, {}, opts);
    const { resourceGroupName, location, tags } = args;

    this.workspace = new monitor.AzureMonitorWorkspace(
      `${name}-workspace`,
      { resourceGroupName, location, tags },
      { parent: this },
    );
    this.dataCollectionEndpoint = new monitor.DataCollectionEndpoint(
      `${name}-dce`,
      { resourceGroupName, location, kind: "Linux", tags },
      { parent: this },
    );
    this.dataCollectionRule = new monitor.DataCollectionRule(
      `${name}-dcr`,
      {
        resourceGroupName,
        location,
        tags,
        ...prometheusCollectionRule(this.dataCollectionEndpoint.id, this.workspace.id),
      },
      { parent: this },
    );
    this.association = new monitor.DataCollectionRuleAssociation(
      `${name}-dcra`,
      {
        resourceUri: args.clusterId,
        dataCollectionRuleId: this.dataCollectionRule.id,
        description:
          "Sends the cluster's Prometheus metrics to the Azure Monitor workspace; deleting it stops the collection.",
      },
      { parent: this },
    );

    this.ruleGroups = args.ruleGroups.map(
      (group) =>
        new alertsmanagement.PrometheusRuleGroup(
          `${name}-${group.name}`,
          {
            resourceGroupName,
            location,
            tags,
            ruleGroupName: group.name,
            description: `mlops-platform rules (${group.name}); source: infra/monitoring/rules.ts`,
            scopes: [this.workspace.id, args.clusterId],
            clusterName: args.clusterName,
            enabled: true,
            interval: RULE_GROUP_INTERVAL,
            rules: azurePrometheusRules(group, args.actionGroupId),
          },
          { parent: this, dependsOn: [this.association] },
        ),
    );

    if (args.grafana) {
      this.grafana = new dashboard.Grafana(
        `${name}-grafana`,
        {
          resourceGroupName,
          location,
          tags,
          // 2–23 characters; unique in the subscription.
          workspaceName: uniqueName(
            GRAFANA_WORKSPACE,
            name,
            stableSuffix([pulumi.getProject(), pulumi.getStack()]),
          ),
          sku: { name: "Standard" },
          identity: { type: "SystemAssigned" },
          properties: {
            apiKey: "Disabled",
            publicNetworkAccess: "Enabled",
            grafanaIntegrations: {
              azureMonitorWorkspaceIntegrations: [
                { azureMonitorWorkspaceResourceId: this.workspace.id },
              ],
            },
          },
        },
        { parent: this },
      );
      const client = authorization.getClientConfigOutput({ parent: this });
      new authorization.RoleAssignment(
        `${name}-grafana-reader`,
        {
          principalId: this.grafana.identity.apply((i) => i?.principalId ?? ""),
          principalType: "ServicePrincipal",
          roleDefinitionId: client.subscriptionId.apply((s) =>
            roleDefinitionId(s, MONITORING_DATA_READER_ROLE),
          ),
          scope: this.workspace.id,
        },
        { parent: this },
      );
    }

    this.prometheusQueryEndpoint = this.workspace.metrics.apply(
      (m) => m?.prometheusQueryEndpoint ?? "",
    );
    this.grafanaEndpoint = this.grafana
      ? this.grafana.properties.apply((p) => p.endpoint ?? "")
      : pulumi.output("");
    this.registerOutputs({
      prometheusQueryEndpoint: this.prometheusQueryEndpoint,
      grafanaEndpoint: this.grafanaEndpoint,
    });
  }
}

/** The data collection rule of managed Prometheus: the cluster's Prometheus metrics stream,
 * through the endpoint, into the workspace (an Azure Monitor "monitoring account"). */
export function prometheusCollectionRule(
  endpointId: pulumi.Input<string>,
  workspaceId: pulumi.Input<string>,
) {
  const destination = "MonitoringAccount1";
  return {
    kind: "Linux",
    description: "Managed Prometheus: the AKS metrics add-on's scrapes into the workspace.",
    dataCollectionEndpointId: endpointId,
    dataSources: {
      prometheusForwarder: [
        { name: "PrometheusDataSource", streams: [PROMETHEUS_STREAM], labelIncludeFilter: {} },
      ],
    },
    destinations: {
      monitoringAccounts: [{ name: destination, accountResourceId: workspaceId }],
    },
    dataFlows: [{ streams: [PROMETHEUS_STREAM], destinations: [destination] }],
  };
}
