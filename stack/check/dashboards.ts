/** The PromQL expressions of provisioned Grafana dashboards (panel targets and variable queries). */
export type DashboardQuery = { dashboard: string; where: string; expr: string };

type Json = Record<string, unknown>;

export function dashboardQueries(dashboard: Json): DashboardQuery[] {
  const title = String(dashboard.title);
  const out: DashboardQuery[] = [];
  const panels = (dashboard.panels as Json[] | undefined) ?? [];
  const walk = (list: Json[]) => {
    for (const p of list) {
      for (const t of (p.targets as Json[] | undefined) ?? []) out.push({ dashboard: title, where: `panel "${String(p.title)}"`, expr: String(t.expr) });
      walk((p.panels as Json[] | undefined) ?? []); // panels inside rows
    }
  };
  walk(panels);
  const variables = ((dashboard.templating as Json | undefined)?.list as Json[] | undefined) ?? [];
  for (const v of variables) {
    if (v.type !== 'query') continue;
    const query = v.query as Json | string;
    out.push({ dashboard: title, where: `variable $${String(v.name)}`, expr: typeof query === 'string' ? query : String(query.query) });
  }
  return out;
}
