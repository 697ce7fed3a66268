# Sourced by the benchmark scripts: `ingest_shared NAME` ingests one of ../shared/data's logs (yelp: the
# S3-Rec sequences; taobao: the Taobao head with its behaviour column) into the database $pleat points
# at and prints the ingest's JSON line; another NAME returns 2. Needs $pleat and $shared.
ingest_shared() {
  case $1 in
    yelp) $pleat ingest "$shared/amazon-s3rec/yelp.txt" --format sequences --json ;;
    taobao) $pleat ingest "$shared/taobao-head/events.csv" --format csv --user-col user_id --item-col item_id \
              --time-col timestamp --event-col behavior_type --json ;;
    *) return 2 ;;
  esac
}
