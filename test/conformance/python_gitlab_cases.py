"""REST cases driven through python-gitlab (Debian's python3-gitlab), printed as JSON lines.

Each case names the GitLab documentation page its expectation comes from (doc/api/*.md in gitlab-org/gitlab).
Usage: python3 python_gitlab_cases.py URL TOKEN
"""
import json
import sys

import gitlab

url, token = sys.argv[1], sys.argv[2]
gl = gitlab.Gitlab(url, private_token=token)


def case(name, source):
    def wrap(fn):
        try:
            detail = fn()
            ok = detail is True or detail is None
            print(json.dumps({"name": name, "source": source, "ok": ok, "detail": None if ok else str(detail)}))
        except Exception as err:  # the client's own error is the observation
            print(json.dumps({"name": name, "source": source, "ok": False, "detail": f"{type(err).__name__}: {err}"}))
        sys.stdout.flush()
        return fn
    return wrap


state = {}


@case("auth: current user", "doc/api/users.md#get-the-current-user")
def _():
    gl.auth()
    return gl.user.username == "root" or gl.user.username


@case("projects.create without initialize_with_readme is empty", "doc/api/projects.md#create-a-project")
def _():
    p = gl.projects.create({"name": "pg-empty"})
    state["empty"] = p
    return p.empty_repo is True or f"empty_repo={p.empty_repo}"


@case("files.create README.md in an empty project", "doc/api/repository_files.md#create-new-file-in-repository")
def _():
    p = state["empty"]
    f = p.files.create({"file_path": "README.md", "branch": "main", "content": "# hi\n", "commit_message": "add"})
    return f.file_path == "README.md" or f.file_path


@case("files.get has content_sha256, blob_id, last_commit_id", "doc/api/repository_files.md#get-file-from-repository")
def _():
    f = state["empty"].files.get("README.md", ref="main")
    import hashlib
    ok = f.content_sha256 == hashlib.sha256(b"# hi\n").hexdigest() and len(f.blob_id) == 40 and len(f.last_commit_id) == 40
    return ok or f.attributes


@case("projects.create with initialize_with_readme", "doc/api/projects.md#create-a-project")
def _():
    p = gl.projects.create({"name": "pg-main", "initialize_with_readme": True})
    state["main"] = p
    return (p.empty_repo is False and p.default_branch == "main") or p.attributes


@case("project entity fields", "doc/api/projects.md#get-a-single-project")
def _():
    p = gl.projects.get(state["main"].id)
    missing = [k for k in ["empty_repo", "owner", "_links", "permissions", "last_activity_at", "namespace", "http_url_to_repo", "web_url"] if k not in p.attributes]
    return not missing or f"missing {missing}"


@case("projects.list search", "doc/api/projects.md#list-all-projects (search)")
def _():
    names = [p.name for p in gl.projects.list(search="pg-main", get_all=True)]
    return names == ["pg-main"] or names


@case("commits.create with move and chmod actions", "doc/api/commits.md#create-a-commit-with-multiple-files-and-actions")
def _():
    p = state["main"]
    p.commits.create({"branch": "main", "commit_message": "tools", "actions": [
        {"action": "create", "file_path": "run.sh", "content": "echo run\n"},
    ]})
    c = p.commits.create({"branch": "main", "commit_message": "move+chmod", "actions": [
        {"action": "move", "file_path": "bin/run.sh", "previous_path": "run.sh"},
        {"action": "chmod", "file_path": "bin/run.sh", "execute_filemode": True},
    ]})
    state["moved"] = c
    f = p.files.get("bin/run.sh", ref="main")
    return f.execute_filemode is True or f.attributes


@case("commit diff", "doc/api/commits.md#get-the-diff-of-a-commit")
def _():
    diff = state["main"].commits.get(state["moved"].id).diff(get_all=True)
    paths = sorted((d["old_path"], d["new_file"], d["deleted_file"], d["b_mode"]) for d in diff)
    return paths == [("bin/run.sh", True, False, "100755"), ("run.sh", False, True, "0")] or paths


@case("files.delete", "doc/api/repository_files.md#delete-existing-file-in-repository")
def _():
    p = state["main"]
    p.files.delete(file_path="bin/run.sh", branch="main", commit_message="rm")
    try:
        p.files.get("bin/run.sh", ref="main")
        return "still there"
    except gitlab.exceptions.GitlabGetError as err:
        return err.response_code == 404 or err.response_code


@case("pagination: Link with first and last", "doc/api/rest/index.md#pagination-link-header")
def _():
    for i in range(3):
        gl.projects.create({"name": f"pg-page-{i}"})
    page = gl.projects.list(per_page=2, iterator=True)
    return (page.total_pages >= 2 and page.next_page == 2) or (page.total_pages, page.next_page)


@case("ci lint: valid", "doc/api/lint.md#validate-a-ci-yaml-configuration-with-a-namespace")
def _():
    r = state["main"].ci_lint.create({"content": "job:\n  script: echo\n"})
    return r.valid is True or r.attributes


@case("ci lint: first error worded like GitLab", "doc/api/lint.md; spec/lib/gitlab/ci/yaml_processor_spec.rb (tags)")
def _():
    r = state["main"].ci_lint.create({"content": "rspec:\n  script: test\n  tags: mysql\n"})
    return (r.valid is False and r.errors[0] == "jobs:rspec:tags config should be an array of strings") or r.attributes


@case("pipeline: manual job shows manual and plays", "doc/ci/jobs/job_control.md#create-a-job-that-must-be-run-manually; doc/api/jobs.md#run-a-job")
def _():
    p = state["main"]
    p.files.create({"file_path": ".gitlab-ci.yml", "branch": "main", "commit_message": "ci [skip ci]", "content": "deploy:\n  script: echo\n  when: manual\n"})
    pl = p.pipelines.create({"ref": "main"})
    job = pl.jobs.list(get_all=True)[0]
    state["pipeline"] = pl
    if job.status != "manual":
        return f"job status {job.status}"
    pj = p.jobs.get(job.id)
    pj.play()
    return p.jobs.get(job.id).status == "pending" or p.jobs.get(job.id).status


@case("pipeline variables and delete", "doc/api/pipelines.md#delete-a-pipeline")
def _():
    p = state["main"]
    pl = p.pipelines.create({"ref": "main", "variables": [{"key": "A", "value": "1"}]})
    vars_ = [(v.key, v.value) for v in pl.variables.list()]
    pl.delete()
    try:
        p.pipelines.get(pl.id)
        return "still there"
    except gitlab.exceptions.GitlabGetError as err:
        return (vars_ == [("A", "1")] and err.response_code == 404) or (vars_, err.response_code)


@case("pipeline schedules: create, variable, play", "doc/api/pipeline_schedules.md")
def _():
    p = state["main"]
    s = p.pipelineschedules.create({"description": "nightly", "ref": "main", "cron": "0 2 * * *"})
    s.variables.create({"key": "NIGHTLY", "value": "1"})
    schedule_id = s.id
    s.play()  # GitLab answers {"message": "201 Created"}, which python-gitlab takes as the object's new attributes
    s = p.pipelineschedules.get(schedule_id)
    return (s.last_pipeline is not None and s.cron == "0 2 * * *") or s.attributes


@case("runners: create, list by tag, delete", "doc/api/users.md#create-a-runner-linked-to-a-user; doc/api/runners.md")
def _():
    # python-gitlab 3.12 predates user.runners: the documented endpoint through its raw HTTP call.
    r = gl.http_post("/user/runners", post_data={"runner_type": "project_type", "project_id": state["main"].id, "tag_list": ["pg", "x"], "description": "pg"})
    listed = [x.id for x in gl.runners.list(tag_list=["pg"], get_all=True)]
    all_ = [x.id for x in gl.runners_all.list(tag_list=["pg"], get_all=True)]
    gl.runners.delete(r["id"])
    return (listed == [r["id"]] and all_ == [r["id"]]) or (listed, all_, r["id"])


@case("projects.delete", "doc/api/projects.md#delete-a-project")
def _():
    p = gl.projects.create({"name": "pg-delete"})
    p.delete()
    try:
        gl.projects.get(p.id)
        return "still there"
    except gitlab.exceptions.GitlabGetError as err:
        return err.response_code == 404 or err.response_code
