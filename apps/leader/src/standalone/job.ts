export * from "@toil/job";
