CREATE TABLE "git_refs" (
	"name" text PRIMARY KEY NOT NULL,
	"commit" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "live_commits" (
	"id" serial PRIMARY KEY NOT NULL,
	"page_id" integer NOT NULL,
	"revision_id" integer,
	"commit" text NOT NULL,
	"blob" text,
	"action" text NOT NULL,
	"author_name" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "live_version" (
	"id" integer PRIMARY KEY NOT NULL,
	"version" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pages" (
	"id" serial PRIMARY KEY NOT NULL,
	"parent_id" integer,
	"path" text NOT NULL,
	"depth" integer NOT NULL,
	"type" text NOT NULL,
	"slug" text NOT NULL,
	"draft_slug" text NOT NULL,
	"url_path" text NOT NULL,
	"live" boolean DEFAULT false NOT NULL,
	"has_unpublished_changes" boolean DEFAULT true NOT NULL,
	"latest_revision_id" integer NOT NULL,
	"live_revision_id" integer,
	"draft" json NOT NULL,
	"live_content" json,
	"live_blob" text,
	"search_text" text DEFAULT '' NOT NULL,
	"first_published_at" timestamp with time zone,
	"last_published_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pages_parent_slug_key" UNIQUE NULLS NOT DISTINCT("parent_id","slug")
);
--> statement-breakpoint
CREATE TABLE "revisions" (
	"id" serial PRIMARY KEY NOT NULL,
	"page_id" integer NOT NULL,
	"commit" text NOT NULL,
	"blob" text,
	"action" text NOT NULL,
	"author_name" text NOT NULL,
	"token_id" integer,
	"message" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tokens" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" text,
	"role" text NOT NULL,
	"hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "live_commits_page_idx" ON "live_commits" USING btree ("page_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "pages_path_idx" ON "pages" USING btree ("path" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "pages_url_path_idx" ON "pages" USING btree ("url_path");--> statement-breakpoint
CREATE INDEX "pages_type_slug_idx" ON "pages" USING btree ("type","slug");--> statement-breakpoint
CREATE INDEX "pages_parent_draft_slug_idx" ON "pages" USING btree ("parent_id","draft_slug");--> statement-breakpoint
CREATE INDEX "revisions_page_idx" ON "revisions" USING btree ("page_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "revisions_commit_idx" ON "revisions" USING btree ("commit");--> statement-breakpoint
CREATE UNIQUE INDEX "tokens_hash_idx" ON "tokens" USING btree ("hash");